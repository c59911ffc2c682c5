"""classify_body's count of Chinese characters outside tags, read without making the page's text."""

from __future__ import annotations

import random

import pytest

from sources.fetch import _CJK_ENOUGH, _SCRIPTS, _TAGS, _VISIBLE_CJK_ENOUGH, _cjk_count, classify_body

PIECES = ["报告", "年度", "中", "<p>", "</td>", "<a title='公开'>", "<meta content=\"政府信息公开\">", "<", ">", " < ",
          "a", "\n", "<script>var s='年度报告';</script>", "<style>p{}</style>", "<!-- 注释 -->", "<b", "页面不存在",
          "<td>1</td>", "x<y", "<<", ">>"]


WEIGHTS = [30, 30, 30, 5, 5, 3, 2, 1, 1, 1, 5, 5, 2, 1, 1, 1, 1, 5, 1, 1, 1]


def page(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(PIECES, WEIGHTS, k=n))


def verdicts(seed: int) -> tuple[bool, bool]:
    """(read past the tags: enough, the page's text made the long way: enough) of a random page."""
    rng = random.Random(seed)
    text = _SCRIPTS.sub(" ", page(rng, rng.choice([50, 200, 400, 800])))
    return bool(_VISIBLE_CJK_ENOUGH.match(text)), _cjk_count(_TAGS.sub(" ", text)) >= _CJK_ENOUGH


@pytest.mark.parametrize("seed", range(300))
def test_enough_outside_tags_only_when_the_pages_text_has_enough(seed):
    quick, exact = verdicts(seed)
    assert quick == exact or not quick  # "not enough" only sends it the long way (an unclosed "<")


def test_the_pages_tried_give_each_answer():
    assert {(True, True), (False, False), (False, True)} <= {verdicts(seed) for seed in range(300)}


def test_a_page_whose_chinese_is_in_its_tags_is_not_a_report():
    attrs = "".join(f"<a title='政府信息公开年度报告第{i}页'>x</a>" for i in range(100))
    body = f"<html><body>{attrs}<p>页面不存在</p></body></html>".encode()
    assert classify_body(body, "text/html; charset=utf-8")[1] == "soft_error_page"
    body = f"<html><body>{attrs}<p>{'年度报告' * 80}</p></body></html>".encode()
    assert classify_body(body, "text/html; charset=utf-8")[1] is None
