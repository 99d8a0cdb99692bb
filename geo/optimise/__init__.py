"""Planning route extensions: candidate detours on the roads (``candidates``), the exact/greedy choice
(``model``: weighted set multicover and maximal covering on HiGHS) and the plan as route drafts (``plan``).
"""
