"""Narrative figures (S1): clear patterns only, from real report sentences."""

from __future__ import annotations

import pytest

from transforms import formatspec as fs
from transforms.narrative import CELLS, extract

# Sentences copied from the seed reports (六盘水 2024, 硚口区 2024, 普洱 2024, 衢州 2022) and 平潭 2023.
LPS = ("2024年,全市新收政府信息公开申请842件,申请内容主要集中在土地征收、拆迁安置、地质灾害、小区物业等方面,"
       "依法办结840件,结转下年度办理15市级件。")
QIAOKOU = ("2024年,新收到依申请公开政府信息289件,上年结转政府信息公开申请12件,其中予以公开46件、部分公开61件、"
           "不予公开44件、无法提供70件、不予处理8件、其他处理55件,结转下年度继续办理17件。\n"
           "2024年,因政府信息公开工作被申请行政复议43件、提起行政诉讼24件。")
PUER = ("共办理申请人向普洱市人民政府、普洱市人民政府办公室提出的政府信息公开申请39件(含2023年结转1件),"
        "累计办结38件,结转2025年办理1件。无行政复议、行政诉讼败诉案件。")
QUZHOU = ("2022年全市接收依申请公开申请835件,上年结转办理23件,予以公开和部分公开543件,依申请公开政府信息答复率100%。"
          "全年办理涉及政府信息公开的行政复议187件、行政诉讼39件。")
PINGTAN = "因政府信息公开引起的行政复议案件2件、行政诉讼案件7件。"


@pytest.mark.parametrize(("text", "expected"), [
    (LPS, {"new_received": 842, "total_processed": 840}),  # "15市级件" is not a clear figure
    (QIAOKOU, {"new_received": 289, "carried_over": 12, "granted": 46, "carried_forward": 17,
               "admin_review_total": 43, "litigation_total": 24}),
    (PUER, {"total_processed": 38}),
    (QUZHOU, {"new_received": 835, "carried_over": 23, "admin_review_total": 187, "litigation_total": 39}),
    (PINGTAN, {"admin_review_total": 2, "litigation_total": 7}),
])
def test_real_sentences(text, expected):
    assert extract(text) == expected


def test_conservative():
    assert extract("全年公开信息7万余条,收到政府信息公开申请1000余件。") == {}
    assert extract("收到政府信息公开申请1.5万件") == {}
    assert extract("予以公开及部分公开258件") == {}  # two categories in one figure
    assert extract("行政复议和行政诉讼案件各3件") == {}
    assert extract("新收政府信息公开申请12件。……新收政府信息公开申请13件。") == {}  # contradictory: dropped
    assert extract("新收政府信息公开申请12件。另:新收政府信息公开申请12件。") == {"new_received": 12}
    assert extract("一、本年新收政府信息公开申请数量 | 58 | 7 | 0 | 0 | 1 | 0 | 66件 |") == {}  # a table line
    assert extract("") == {} and extract(None) == {}


def test_full_width_and_spaced_digits():
    assert extract("全市新收政府信息公开申请８４２ 件") == {"new_received": 842}


def test_cells_are_contract_paths():
    paths = set(fs.cell_paths(fs.F2021, fs.F2021))
    for key, cells in CELLS.items():
        assert cells and set(cells) <= paths, key
