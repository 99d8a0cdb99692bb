"""Map elements whose rendered parts go into the page as they are.

branca's :class:`~branca.element.MacroElement` renders its header, html and
script macros and adds each result to the page as a new template, which jinja
then lexes and compiles once more although it holds no template syntax. For an
element that carries data (a layer of thousands of features is megabytes of
JSON) that second compile is most of the time a map takes to render, and it is
paid again on every rerun of the app. :class:`Macro` renders the same macros and
adds their text as :class:`RawText`, which is put into the page unchanged.
"""

from __future__ import annotations

from branca.element import Element, Figure, MacroElement
from jinja2 import Template


class RawText(Element):
    """Text that goes into the page unchanged (it is not compiled as a template)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self._name = "RawText"
        self.text = text


class Macro(MacroElement):
    """A :class:`~branca.element.MacroElement` whose rendered header, html and script are added as :class:`RawText`."""

    def render(self, **kwargs) -> None:
        """Add the rendered macros to the figure, then render the children (as branca's MacroElement does)."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "You cannot render this Element if it is not in a Figure."
            raise TypeError(msg)
        module = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = module.get(part)
            if macro is not None:
                target.add_child(RawText(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)
