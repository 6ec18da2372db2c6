"""The key -> line scanner behind line-numbered scenario errors."""

from __future__ import annotations

import pytest

from qa.tomllines import key_lines, line_of

DOC = '''name = "x"          # 1
# a comment          2
[content]            # 3
title = "t001"       # 4
seeks = [{at_s = 3, to_s = 9}, {at_s = 5, to_s = 1}]
[network.ocas."oca-2"]
mbps = 3             # 7
[[faults]]           # 8
at_s = 1             # 9
[[faults]]           # 10
at_s = 2             # 11
params = {a = 1, b = {c = 2}}
description = """
at_s = 99
"""
[ci]                 # 16
content = {duration_s = 10}
'''


@pytest.mark.parametrize("path, line", [
    ("name", 1), ("content", 3), ("content.title", 4), ("content.seeks.0.at_s", 5), ("content.seeks.1.to_s", 5),
    ("network.ocas.oca-2", 6), ("network.ocas.oca-2.mbps", 7), ("faults.0", 8), ("faults.0.at_s", 9),
    ("faults.1.at_s", 11), ("faults.1.params.b.c", 12), ("ci", 16), ("ci.content.duration_s", 17),
])
def test_each_key_maps_to_its_line(path, line):
    assert key_lines(DOC)[path] == line


def test_multiline_strings_are_skipped_and_unknown_paths_fall_back_to_the_parent():
    lines = key_lines(DOC)
    assert "faults.1.description" in lines and "faults.1.at_s" in lines
    assert lines["faults.1.at_s"] == 11  # not the at_s inside the multi-line string
    assert line_of(lines, "faults.1.params.zzz") == 12
    assert line_of(lines, "nowhere.at.all") is None
