"""The pictures of a page: ``<img>`` sources and links to picture files (no OCR here)."""

from __future__ import annotations

from sources.fetch import PICTURE, classify_body
from transforms.pdfimages import html_image_srcs


def test_img_sources_and_linked_picture_files_in_page_order_once_each():
    html = ('<img src="logo.gif"><p><a href="files/t1.PNG?v=2">表一</a></p><img src="data:image/png;base64,AA">'
            '<a href="report.pdf">附件</a><a href="t2.jpeg#x">表二</a><img src="logo.gif">'
            '<script><a href="no.png"></a></script><a href="t3.jpg.html">页面</a>')
    assert html_image_srcs(html) == ["logo.gif", "files/t1.PNG?v=2", "t2.jpeg#x"]


def test_a_registry_url_that_is_a_readable_picture_is_kept_and_a_fake_one_is_not():
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("L", (40, 20), 255).save(buf, format="PNG")
    decoded, code, _ = classify_body(buf.getvalue(), "image/png")
    assert code is None and decoded.kind == PICTURE
    assert classify_body(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")[1] == "not_a_report"
