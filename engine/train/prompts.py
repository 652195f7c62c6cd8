"""The report plan's prompt templates, read from agentd/plans/report.lua itself so the task data
the model trains on uses exactly the prompts the plan sends."""

import os
import re

PLAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agentd", "plans", "report.lua")


def _unescape(lua_string):
    return re.sub(r'\\(n|"|\\)', lambda m: {"n": "\n", '"': '"', "\\": "\\"}[m.group(1)], lua_string)


def load(path=PLAN):
    source = open(path, encoding="utf-8").read()
    templates = {}
    for lang in ("en", "zh"):
        block = re.search(r"\n  %s = \{\n(.*?)\n  \}," % lang, source, re.S).group(1)
        templates[lang] = {key: _unescape(value) for key, value in re.findall(r'(\w+) = "((?:[^"\\]|\\.)*)"', block)}
    # The critique a revise example is given (the plan gets it from the model's critique pass).
    templates["en"]["problems"] = "- One citation points to a passage that does not support the claim.\n- Claims without a citation."
    templates["zh"]["problems"] = "- 有一处引用与论断不符。\n- 有论断没有引用。"
    return templates


TEMPLATES = load()
