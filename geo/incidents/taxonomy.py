"""The incident taxonomy of the plan: categories, subcategories, sources and the label tables that map exports onto them.
"""

from __future__ import annotations

import re

from geo._validate import ascii_text, is_blank
from geo.errors import SchemaError

# --- taxonomy ------------------------------------------------------------------

#: Categories and their subcategories; the order gives the integer codes.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "盗窃": ("入室盗窃", "盗窃车内物品", "其他盗窃"),
    "侵财": ("抢劫", "抢夺", "电信网络诈骗", "其他侵财"),
    "刑事": ("其他刑事",),
    "矛盾纠纷": ("邻里纠纷", "家庭纠纷", "感情纠纷", "债务纠纷", "其他纠纷"),
    "其他警情": ("其他警情",),
}

#: Category names in code order (code = index).
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)

#: English meaning of each category.
CATEGORY_ENGLISH: dict[str, str] = {
    "盗窃": "theft",
    "侵财": "other property crime",
    "刑事": "other criminal offence",
    "矛盾纠纷": "dispute",
    "其他警情": "other 110 call",
}

#: Subcategory names in code order (code = index).
SUBCATEGORY_NAMES: tuple[str, ...] = tuple(s for subs in CATEGORIES.values() for s in subs)

#: Parent of each category in the plan's counting: theft is a property crime, property crime is criminal.
CATEGORY_PARENT: dict[str, str | None] = {"盗窃": "侵财", "侵财": "刑事", "刑事": None, "矛盾纠纷": None, "其他警情": None}

#: Sources in code order: 110 calls, criminal cases, the dispute register.
SOURCES: dict[str, str] = {
    "110": "110警情 (110 call)",
    "criminal_case": "刑事案件 (criminal case)",
    "dispute_register": "矛盾纠纷登记 (dispute register)",
}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)



def _label_key(label) -> str:
    text = ascii_text(str(label)).strip().lower()
    return re.sub(r"[\s_\-/·.、]+", "", text)


_ALIASES: list[tuple[tuple[str, str | None], tuple[str, ...]]] = [
    (("盗窃", None), ("盗窃", "盗窃案", "盗窃案件", "盗窃类", "theft", "larceny", "stealing")),
    (("盗窃", "入室盗窃"), ("入室盗窃", "入户盗窃", "入室盗窃案", "撬门入室盗窃", "溜门入室盗窃", "burglary", "home burglary", "residential burglary", "breaking and entering")),
    (("盗窃", "盗窃车内物品"), ("盗窃车内物品", "盗窃车内财物", "车内盗窃", "砸车盗窃", "砸车窗盗窃", "theft from vehicle", "theft from car", "theft from a vehicle", "car break-in")),
    (("盗窃", "其他盗窃"), ("其他盗窃", "扒窃", "盗窃电动车", "盗窃电瓶车", "盗窃自行车", "盗窃摩托车", "盗窃机动车", "盗窃电瓶", "other theft", "pickpocketing", "bicycle theft", "vehicle theft", "e-bike theft")),
    (("侵财", None), ("侵财", "侵财类", "侵财案件", "侵财类案件", "property crime", "property offence", "property offense")),
    (("侵财", "抢劫"), ("抢劫", "抢劫案", "持刀抢劫", "robbery")),
    (("侵财", "抢夺"), ("抢夺", "抢夺案", "飞车抢夺", "snatching", "snatch theft", "bag snatching")),
    (("侵财", "电信网络诈骗"), ("电信网络诈骗", "电诈", "电信诈骗", "网络诈骗", "电话诈骗", "网络电信诈骗", "telecom fraud", "online fraud", "telecom and online fraud", "telecom network fraud", "phone scam")),
    (("侵财", "其他侵财"), ("其他侵财", "诈骗", "合同诈骗", "敲诈勒索", "侵占", "fraud", "extortion", "other property crime")),
    (("刑事", "其他刑事"), ("刑事", "刑事案件", "其他刑事", "其他刑事案件", "故意伤害", "故意毁坏财物", "寻衅滋事", "强奸", "贩毒", "assault", "criminal", "criminal case", "other criminal", "other crime", "vandalism")),
    (("矛盾纠纷", None), ("矛盾纠纷", "纠纷", "民事纠纷", "dispute", "disputes", "civil dispute")),
    (("矛盾纠纷", "邻里纠纷"), ("邻里纠纷", "邻里", "邻里矛盾", "neighbour dispute", "neighbor dispute", "neighbourhood dispute")),
    (("矛盾纠纷", "家庭纠纷"), ("家庭纠纷", "家庭", "家庭矛盾", "婚姻家庭纠纷", "家暴", "domestic dispute", "family dispute", "domestic violence")),
    (("矛盾纠纷", "感情纠纷"), ("感情纠纷", "感情", "情感纠纷", "恋爱纠纷", "relationship dispute", "romantic dispute")),
    (("矛盾纠纷", "债务纠纷"), ("债务纠纷", "债务", "经济纠纷", "欠款纠纷", "借贷纠纷", "劳资纠纷", "debt dispute", "money dispute", "wage dispute")),
    (("矛盾纠纷", "其他纠纷"), ("其他纠纷", "other dispute")),
    (("其他警情", "其他警情"), ("其他警情", "其他", "其它", "求助", "噪音扰民", "交通事故", "走失", "咨询", "other", "other 110 call", "assistance", "noise complaint", "traffic accident", "missing person")),
]

#: Documented mapping of labels found in exports to (category, subcategory).
#: Keys are normalised labels (NFKC, lower case, no spaces, dashes or dots);
#: subcategory None means the label names only the category.
LABEL_TABLE: dict[str, tuple[str, str | None]] = {_label_key(a): target for target, aliases in _ALIASES for a in aliases}

_SOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "110": ("110", "110警情", "警情", "接警", "110报警", "110 call", "110call", "call", "police call"),
    "criminal_case": ("criminal_case", "刑事案件", "刑事立案", "立案", "案件", "criminal case", "case"),
    "dispute_register": ("dispute_register", "矛盾纠纷登记", "纠纷登记", "矛盾纠纷", "调解", "dispute register", "dispute"),
}
#: Documented mapping of source labels to :data:`SOURCES`.
SOURCE_TABLE: dict[str, str] = {_label_key(a): src for src, aliases in _SOURCE_ALIASES.items() for a in aliases}


def map_label(label, extra: dict | None = None) -> tuple[str, str | None] | None:
    """Return ``(category, subcategory)`` for a label, or None when it maps nowhere.

    Parameters
    ----------
    label
        A category or subcategory label, Chinese or English (see :data:`LABEL_TABLE`).
    extra
        The user's own labels from :func:`parse_label_table`; they win over the table.

    Returns
    -------
    tuple or None
        The subcategory is None when the label names only a category.
    """
    if label is None:
        return None
    key = _label_key(label)
    if extra and key in extra:
        return extra[key]
    return LABEL_TABLE.get(key)


def parse_label_table(labels: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Check the user's own label table: ``{"label": "category/subcategory"}`` (or just ``"category"``).

    Returns
    -------
    dict
        Normalised label -> ``(category, subcategory)``, for :func:`classify`.

    Raises
    ------
    SchemaError
        Listing every target that is not in the taxonomy.
    """
    out: dict[str, tuple[str, str | None]] = {}
    problems = []
    for label, target in labels.items():
        cat, _, sub = str(target).partition("/")
        cat, sub = cat.strip(), sub.strip() or None
        if cat not in CATEGORIES or (sub is not None and sub not in CATEGORIES[cat]):
            problems.append(f"labels: {label!r} -> {target!r} is not in the taxonomy; write CATEGORY or CATEGORY/SUBCATEGORY, e.g. 盗窃/入室盗窃")
            continue
        out[_label_key(label)] = (cat, sub)
    if problems:
        raise SchemaError("the label table has targets outside the taxonomy", problems)
    return out


def _is_ancestor(parent: str, child: str) -> bool:
    c: str | None = child
    while c is not None:
        if c == parent:
            return True
        c = CATEGORY_PARENT[c]
    return False


def classify(category=None, subcategory=None, *, extra: dict | None = None) -> tuple[str, str | None]:
    """Map a pair of labels to the taxonomy.

    Parameters
    ----------
    category, subcategory
        Labels as found in a file; either may be None.
    extra
        The user's own labels (:func:`parse_label_table`).

    Returns
    -------
    (category, subcategory)
        Canonical names; the subcategory is None when only a category was given.

    Raises
    ------
    ValueError
        With the reason when a label maps nowhere, both are missing, or they disagree.
    """
    cat_given = not is_blank(category)
    sub_given = not is_blank(subcategory)
    if not cat_given and not sub_given:
        raise ValueError("no category: give a category (警情类别) such as 盗窃, 侵财, 刑事, 矛盾纠纷 or 其他警情")
    c = map_label(category, extra) if cat_given else None
    s = map_label(subcategory, extra) if sub_given else None
    if cat_given and c is None:
        raise ValueError(f"category label {str(category).strip()!r} maps to nothing in the taxonomy; add it to the 'labels' of a --mapping file or fix the label")
    if sub_given and s is None:
        raise ValueError(f"subcategory label {str(subcategory).strip()!r} maps to nothing in the taxonomy; add it to the 'labels' of a --mapping file or fix the label")
    if s is None:
        return c  # type: ignore[return-value]
    if c is not None and not _is_ancestor(c[0], s[0]):
        raise ValueError(f"category {str(category).strip()!r} ({c[0]}) and subcategory {str(subcategory).strip()!r} ({s[0]}) disagree; fix one of them")
    if s[1] is None and c is not None and c[0] == s[0]:
        return c
    return s


def map_source(label) -> str | None:
    """Return the canonical source (:data:`SOURCE_NAMES`) of a label, or None when it maps nowhere."""
    if is_blank(label):
        return None
    return SOURCE_TABLE.get(_label_key(label))


