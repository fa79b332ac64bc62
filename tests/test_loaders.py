"""Loaders on real files: PDFs written by reportlab (tests/pdfmaker.py), text in several encodings, HTML,
and the benchmark PDFs when ../shared is present."""

from __future__ import annotations

import pytest
from conftest import FINANCEBENCH_PDFS, ZH_ANNUAL_REPORT
from pdfmaker import make_image_only_pdf, make_pdf, truncate
from reportlab.pdfgen import canvas

from ingest.loaders import SUPPORTED, BadFile, Loaded, load

PAGES = [
    ["第一页：国联证券计算机行业周报", "Page one talks about Sora."],
    ["第二页：谷歌推出 Gemini 1.5 Pro 模型", "Page two talks about Gemini."],
    ["第三页：独角兽公司估值 1,505.60 亿元，同比增长 87%", "Only page three mentions the unicorn."],
    ["第四页：风险提示", "Page four lists the risks."],
]


@pytest.fixture
def report_pdf(tmp_path):
    return make_pdf(tmp_path / "report.pdf", PAGES, header="国联证券 行业研究", title="计算机行业周报",
                    author="姜青山", subject="Sora")


def test_each_page_holds_exactly_its_own_text(report_pdf):
    loaded = load(report_pdf)
    assert loaded.fmt == "pdf"
    assert len(loaded.pages) == 4
    assert [i for i, page in enumerate(loaded.pages) if "unicorn" in page] == [2]
    assert [i for i, page in enumerate(loaded.pages) if "独角兽" in page] == [2]
    assert loaded.blank_pages == ()


def test_chinese_and_english_lines_come_out_exactly(report_pdf):
    lines = load(report_pdf).pages[2].split("\n")
    assert lines == ["国联证券 行业研究", "第三页：独角兽公司估值 1,505.60 亿元，同比增长 87%",
                     "Only page three mentions the unicorn.", "3 / 4"]


def test_document_info_is_read_and_placeholders_are_dropped(report_pdf, tmp_path):
    info = load(report_pdf).info
    assert info == {"title": "计算机行业周报", "author": "姜青山", "subject": "Sora", "creation_date": "2000-01-01"}
    # reportlab's own defaults ("untitled", "anonymous", "unspecified") are not metadata
    plain = canvas.Canvas(str(tmp_path / "plain.pdf"), invariant=1)
    plain.drawString(72, 720, "Some text")
    plain.save()
    assert load(tmp_path / "plain.pdf").info == {"creation_date": "2000-01-01"}


def test_blank_page_is_kept_empty_and_listed(tmp_path):
    path = make_pdf(tmp_path / "gap.pdf", [["first page"], [], ["third page"]], footer_page_numbers=False)
    loaded = load(path)
    assert loaded.pages == ("first page", "", "third page")
    assert loaded.blank_pages == (2,)


def test_line_end_hyphen_stays_a_hyphen_and_a_line_break(tmp_path):
    # pdfium joins "manage-" to the next line and marks the spot with U+FFFE; the loader restores the layout
    path = make_pdf(tmp_path / "hyphen.pdf", [["Our manage-", "ment team met twice."]], font="Helvetica",
                    footer_page_numbers=False)
    assert load(path).pages == ("Our manage-\nment team met twice.",)


def test_owner_password_only_pdf_loads(tmp_path):
    path = make_pdf(tmp_path / "owner.pdf", [["Restricted but readable 2024"]], owner_password="owner-secret")
    loaded = load(path)
    assert loaded.pages[0].split("\n")[0] == "Restricted but readable 2024"


def _bad(path, **options) -> str:
    with pytest.raises(BadFile) as caught:
        load(path, **options)
    message = str(caught.value)
    assert "\n" not in message and "; " in message, message
    return message


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert _bad(tmp_path / "empty.pdf").startswith("empty file (0 bytes);")


def test_binary_file_named_pdf(tmp_path):
    (tmp_path / "photo.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert _bad(tmp_path / "photo.pdf").startswith("not a PDF (the content is a PNG image);")
    (tmp_path / "noise.pdf").write_bytes(bytes(range(256)) * 4)
    assert _bad(tmp_path / "noise.pdf").startswith("not a PDF (the content is binary data);")


def test_truncated_pdf(report_pdf, tmp_path):
    message = _bad(truncate(report_pdf, tmp_path / "cut.pdf", 0.6))
    assert message.startswith("truncated PDF: the end-of-file marker is missing (PDFium: Data format error);")


def test_corrupt_pdf(tmp_path):
    body = b"1 0 obj << /Type /Catalog >> garbage\n" * 20
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n" + body + b"%%EOF\n")
    message = _bad(tmp_path / "broken.pdf")
    assert message.startswith("corrupt PDF, cannot be opened (PDFium: Data format error);")


def test_encrypted_pdf_needing_a_password(tmp_path):
    path = make_pdf(tmp_path / "locked.pdf", PAGES, user_password="open-sesame", owner_password="owner")
    assert _bad(path).startswith("encrypted PDF that needs a password to open;")


def test_image_only_pdf_with_ocr_off(tmp_path):  # with OCR on, see tests/test_ocr.py
    message = _bad(make_image_only_pdf(tmp_path / "scan.pdf", n_pages=3), ocr=False)
    assert message.startswith("image-only/scanned PDF: no text layer on any of its 3 pages;")
    assert "OCR" in message


def test_unsupported_extension(tmp_path):
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04 not really a docx")
    message = _bad(tmp_path / "report.docx")
    assert message == "unsupported file type .docx; convert it to PDF, Markdown, text or HTML"
    assert ".pdf" in SUPPORTED and ".docx" not in SUPPORTED


def test_text_with_nul_bytes(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"revenue grew\x00\x00\x00 by 5%")
    assert _bad(tmp_path / "notes.txt").startswith("binary content (NUL bytes, or UTF-16")


def test_text_full_of_control_characters_looks_binary(tmp_path):
    (tmp_path / "blob.md").write_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 20)
    assert _bad(tmp_path / "blob.md").startswith("looks binary")


ZH_TEXT = ("# 四方科技 2019 年年度报告\n\n公司2019年度利润分配预案是：以未来实施分配时股权登记日的总股数为基数，"
           "向全体股东每10股派发现金红利1.88元（含税），每10股以资本公积金转增4.8股。现金分红比例为30.59%。\n")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16", "utf-16-be"])
def test_text_encodings_decode_exactly(tmp_path, encoding):
    data = ZH_TEXT.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (tmp_path / "report.txt").write_bytes(data)
    loaded = load(tmp_path / "report.txt")
    assert loaded == Loaded(fmt="txt", pages=(ZH_TEXT,), info={}, blank_pages=())


def test_windows_line_endings_become_newlines(tmp_path):
    (tmp_path / "crlf.md").write_bytes("# 标题\r\n\r\n正文。\r\n".encode())
    assert load(tmp_path / "crlf.md").pages == ("# 标题\n\n正文。\n",)


def test_page_markers_split_markdown_into_pages(tmp_path):
    text = ("# Title\n<!-- page 2 -->\nSecond page text.\n[page 3]\nThird page text.\n"
            "<!-- PAGE 5 -->\nFifth.\n")
    (tmp_path / "paged.md").write_text(text, encoding="utf-8")
    loaded = load(tmp_path / "paged.md")
    assert loaded.pages == ("# Title", "Second page text.", "Third page text.", "", "Fifth.")
    assert loaded.blank_pages == (4,)


def test_form_feeds_split_text_into_pages_and_no_marker_means_page_one(tmp_path):
    (tmp_path / "ff.txt").write_text("one\fzwei\f三", encoding="utf-8")
    assert load(tmp_path / "ff.txt").pages == ("one", "zwei", "三")
    (tmp_path / "plain.markdown").write_text("just [one] page\n", encoding="utf-8")
    assert load(tmp_path / "plain.markdown").pages == ("just [one] page\n",)


def test_html_keeps_headings_tables_and_blocks(tmp_path):
    html = """<html><head><title> 计算机 行业周报 </title><meta name="author" content="姜青山">
    <style>p { color: red }</style><script>var hidden = 1;</script></head><body>
    <h1>Sora 实现文生视频跨越式突破</h1><!-- a comment -->
    <p>OpenAI 发布了
       文生视频大模型 <b>Sora</b>。</p>
    <h2>1.1 Sora 模型</h2>
    <ul><li>数据</li><li>算力</li></ul>
    <table><tr><th>公司</th><th>2023</th></tr><tr><td>海光信息</td><td>1,505.60</td></tr></table>
    <div>第一行<br>第二行</div><script>document.write("x")</script></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    loaded = load(tmp_path / "page.html")
    assert loaded.info == {"title": "计算机 行业周报", "author": "姜青山"}
    assert loaded.pages == ("# Sora 实现文生视频跨越式突破\n\nOpenAI 发布了 文生视频大模型 Sora。\n\n## 1.1 Sora 模型\n\n"
                            "- 数据\n- 算力\n\n公司 | 2023\n海光信息 | 1,505.60\n\n第一行\n第二行",)


@pytest.mark.skipif(not FINANCEBENCH_PDFS.exists(), reason="benchmark PDFs not present")
def test_real_10k_pages_match_the_printed_statement():
    loaded = load(FINANCEBENCH_PDFS / "3M_2018_10K.pdf")
    assert len(loaded.pages) == 160 and loaded.blank_pages == ()
    capex = "Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)"
    assert [i + 1 for i, page in enumerate(loaded.pages) if capex in page] == [49, 60]  # MD&A and statement
    dividends = "Dividends paid to shareholders (3,193) (2,803) (2,678)"
    assert [i + 1 for i, page in enumerate(loaded.pages) if dividends in page] == [60]
    assert loaded.pages[59].split("\n")[-1] == "60"  # the printed page number sits on PDF page 60
    assert loaded.info["title"] == "10-K - 02/07/2019 - 3M Company"


@pytest.mark.skipif(not ZH_ANNUAL_REPORT.exists(), reason="benchmark PDFs not present")
def test_real_chinese_annual_report():
    loaded = load(ZH_ANNUAL_REPORT)
    assert len(loaded.pages) == 156
    dividend = "每10股派发现金红利1.88元（含税）"
    assert [i + 1 for i, page in enumerate(loaded.pages) if dividend in page] == [2]
    assert loaded.pages[1].split("\n")[:2] == ["2019 年年度报告", "2 / 156"]
