"""Report metadata: broker report cards (from real first pages), filings' covers, an A-share annual report,
absent keys."""

from __future__ import annotations

import pytest

from ingest.metadata import extract_metadata
from rag.types import META_KEYS
from tests.conftest import FINANCEBENCH_PDFS, REFERENCE_REPORT, ZH_ANNUAL_REPORT


def pdf_pages(path, count: int | None = 3) -> tuple[list[str], dict[str, str]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    total = len(document) if count is None else min(count, len(document))
    pages = [document[i].get_textpage().get_text_range() for i in range(total)]
    info = document.get_metadata_dict()
    document.close()
    return pages, info


def test_reference_report() -> None:
    pages = [REFERENCE_REPORT.read_text(encoding="utf-8")]
    assert extract_metadata(pages, REFERENCE_REPORT.name, {}) == {
        "title": "Sora 实现文生视频跨越式突破，AIGC 持续正反馈",
        "publisher": "国联证券",
        "date": "2024-02",  # the text carries only event dates; the file name carries the month
        "analysts": "姜青山 (S0590523050001); 黄楷 (S0590522090001)",
        "rating": "强于大市",
        "rating_action": "维持",
        "report_kind": "行业点评",  # a rated sector report without a kind on its page, one page long
        "sector": "计算机",
    }


def test_reference_report_after_cleaning() -> None:
    from ingest.clean import clean_pages

    pages = clean_pages([REFERENCE_REPORT.read_text(encoding="utf-8")], "md")
    meta = extract_metadata(pages, REFERENCE_REPORT.name, {})
    assert meta["publisher"] == "国联证券" and meta["rating"] == "强于大市" and meta["sector"] == "计算机"
    assert meta["rating_action"] == "维持"
    assert meta["analysts"] == "姜青山 (S0590523050001); 黄楷 (S0590522090001)"


BROKER_COVER = [
    "证券研究报告·公司点评\n贵州茅台（600519）：业绩稳健增长，分红率提升\n2024年02月18日\n"
    "投资评级：买入（维持）\n分析师：王小明 SAC 执业证书编号：S0001234567890\n行业：食品饮料\n"
    "公司 2023 年实现营收 1,505.60 亿元，同比增长 18%。",
    "资料来源：Wind，华泰证券研究所\n资料来源：公司公告，华泰证券研究所",
]


def test_broker_cover_with_date_company_and_inline_analyst() -> None:
    assert extract_metadata(BROKER_COVER, "report.pdf", {"title": "Microsoft Word - 20240218.docx"}) == {
        "title": "贵州茅台（600519）：业绩稳健增长，分红率提升",
        "publisher": "华泰证券",
        "date": "2024-02-18",
        "analysts": "王小明 (S0001234567890)",
        "rating": "买入",
        "rating_action": "维持",
        "sector": "食品饮料",
        "company": "贵州茅台",
        "ticker": "600519.SH",
        "report_kind": "公司点评",
    }


def test_labelled_dotted_date_beats_the_file_name() -> None:
    pages = ["行业周报：算力需求持续旺盛\n发布日期：2024.02.18\n正文。美国时间 2024 年 2 月 15 日，OpenAI 发布 Sora。"]
    meta = extract_metadata(pages, "glsc_2023-11_weekly.pdf", {})
    assert meta["date"] == "2024-02-18"
    assert meta["report_kind"] == "行业周报"


def test_english_note_masthead_is_not_the_title() -> None:
    pages = ["Example Securities Research\nSemiconductors: AI demand keeps lifting advanced packaging\n"
             "February 18, 2024\n© 2024 Example Securities. All rights reserved."]
    assert extract_metadata(pages, "note.pdf", {}) == {
        "title": "Semiconductors: AI demand keeps lifting advanced packaging",
        "publisher": "Example Securities",
        "date": "2024-02-18",
    }


def test_absent_stays_absent() -> None:
    pages = ["Quarterly staff notes\nThe canteen closes at 3 pm on 2024 年 2 月 15 日. 评级机构上调了评级。"]
    meta = extract_metadata(pages, "notes.txt", {"creation_date": "2024-03-01", "title": "untitled"})
    assert meta == {"title": "Quarterly staff notes"}
    assert extract_metadata([], "empty.txt", {}) == {}
    assert set(extract_metadata(BROKER_COVER, "a.pdf", {})) <= set(META_KEYS)


def test_filing_cover_joined_by_cleaning() -> None:
    pages = [
        "UNITED STATES SECURITIES AND EXCHANGE COMMISSION Washington, D.C. 20549\nFORM 10-K\n"
        "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934 For the fiscal "
        "year ended December 31, 2022\nCommission File No. 1-7657 American Express Company (Exact name of "
        "registrant as specified in its charter)"
    ]
    assert extract_metadata(pages, "amex.pdf", {}) == {
        "title": "American Express Company 10-K FY2022",
        "company": "American Express Company",
        "form_type": "10-K",
        "period": "FY2022",
    }


def test_chinese_half_year_report() -> None:
    pages = ["公司代码：600519 公司简称：贵州茅台\n贵州茅台酒股份有限公司\n2023 年半年度报告", "重要提示\n一、本公司董事会保证半年度报告内容的真实。"]
    assert extract_metadata(pages, "maotai.pdf", {}) == {
        "title": "贵州茅台酒股份有限公司 2023年半年度报告",
        "company": "贵州茅台 (600519)",
        "form_type": "半年度报告",
        "period": "2023H1",
    }


FILINGS = {
    "3M_2018_10K.pdf": {
        "title": "3M COMPANY 10-K FY2018", "date": "2019-02-07", "company": "3M COMPANY", "form_type": "10-K",
        "period": "FY2018",
    },
    "AMERICANEXPRESS_2022_10K.pdf": {
        "title": "American Express Company 10-K FY2022", "date": "2023-02-10",
        "company": "American Express Company", "form_type": "10-K", "period": "FY2022",
    },
    "PEPSICO_2022_10K.pdf": {
        "title": "PepsiCo, Inc. 10-K FY2022", "date": "2023-02-09", "company": "PepsiCo, Inc.",
        "form_type": "10-K", "period": "FY2022",
    },
    "BESTBUY_2024Q2_10Q.pdf": {  # the cover gives only the end date; the fiscal quarter is named on page 13
        "title": "BEST BUY CO., INC. 10-Q quarter ended 2023-07-29", "date": "2023-09-01",
        "company": "BEST BUY CO., INC.", "form_type": "10-Q", "period": "quarter ended 2023-07-29",
    },
    "ULTABEAUTY_2023Q4_EARNINGS.pdf": {
        "title": "Ulta Beauty Announces Fourth Quarter Fiscal 2022 Results", "date": "2023-03-09",
        "company": "Ulta Beauty, Inc.", "form_type": "earnings release", "period": "FY2022Q4",
    },
}


@pytest.mark.skipif(not FINANCEBENCH_PDFS.is_dir(), reason="FinanceBench PDFs not present")
@pytest.mark.parametrize("name", sorted(FILINGS))
def test_financebench_cover_pages(name: str) -> None:
    pages, info = pdf_pages(FINANCEBENCH_PDFS / name)
    assert extract_metadata(pages, name, info) == FILINGS[name]


@pytest.mark.skipif(not FINANCEBENCH_PDFS.is_dir(), reason="FinanceBench PDFs not present")
def test_ten_q_fiscal_quarter_from_the_whole_filing() -> None:
    pages, info = pdf_pages(FINANCEBENCH_PDFS / "BESTBUY_2024Q2_10Q.pdf", count=None)
    meta = extract_metadata(pages, "BESTBUY_2024Q2_10Q.pdf", info)
    assert meta["period"] == "FY2024Q2" and meta["title"] == "BEST BUY CO., INC. 10-Q FY2024Q2"


@pytest.mark.skipif(not ZH_ANNUAL_REPORT.is_file(), reason="zh-dev annual report not present")
def test_zh_annual_report_raw_and_cleaned() -> None:
    from ingest.clean import clean_pages

    expected = {
        "title": "四方科技集团股份有限公司 2019年年度报告",
        "company": "四方科技 (603339)",
        "form_type": "年度报告",
        "period": "2019",
    }
    pages, info = pdf_pages(ZH_ANNUAL_REPORT)
    assert extract_metadata(pages, ZH_ANNUAL_REPORT.name, info) == expected
    # Cleaning drops the running header "2019 年年度报告", title line of the cover included.
    assert extract_metadata(clean_pages(pages, "pdf"), ZH_ANNUAL_REPORT.name, info) == expected


def test_broker_pdf_made_with_reportlab(tmp_path) -> None:
    from tests.pdfmaker import make_pdf

    path = make_pdf(tmp_path / "cover.pdf", [BROKER_COVER[0].split("\n"), BROKER_COVER[1].split("\n")],
                    footer_page_numbers=False, title="Microsoft Word - cover.docx")
    pages, info = pdf_pages(path)
    meta = extract_metadata(pages, path.name, info)
    assert (meta["publisher"], meta["date"], meta["rating"], meta["company"], meta["ticker"]) == (
        "华泰证券", "2024-02-18", "买入", "贵州茅台", "600519.SH")


def test_rules_and_underscores_are_no_title():
    from ingest.metadata import without_rules

    assert without_rules("______________________ SQUARE, INC.") == "SQUARE, INC."
    assert without_rules("_________________________") == ""
    assert without_rules("— 3M COMPANY —") == "3M COMPANY"
    assert without_rules("Square, Inc.") == "Square, Inc."


# --- Broker report cards: short excerpts of real first pages (as ingestion cleans them) ----------------------

SOOCHOW_COMPANY = """证券研究报告·公司点评报告·光伏设备
东吴证券研究所
请务必阅读正文之后的免责声明部分
阳光电源（300274）
2025年报点评：毛利率短期略有承压，储能
高增持续，AIDC 潜力可期
2026年04月01日
证券分析师曾朵红
执业证书：S0600516080001
021-60199793
zengdh@dwzq.com.cn
证券分析师郭亚男
执业证书：S0600523070003
guoyn@dwzq.com.cn
相关研究
《阳光电源(300274)：2025年三季报
点评：储能发货高增盈利向好，AIDC
布局持续推进》
2025-10-29
买入（维持）
盈利预测与估值 [Table_EPS] 2024A 2025A 2026E 2027E 2028E"""

SOOCHOW_WEEKLY = """证券研究报告·行业跟踪周报·电子
东吴证券研究所
请务必阅读正文之后的免责声明部分
电子行业跟踪周报
海外算力周跟踪：光互联 CPO&OCS 共振，
PCB 扩产加码迎技术升级新周期
2026年04月06日
证券分析师陈海进
执业证书：S0600525020001
chenhj@dwzq.com.cn
研究助理解承堯
执业证书：S0600125020001
xiechy@dwzq.com.cn
行业走势
相关研究
增持（维持）
◼ 光互联：英伟达在 GTC 2026 上明确将 CPO 作为关键路线，目标价并非本文讨论对象。"""

BOCOM_UPDATE = """交银国际研究
公司更新
新能源2026年4月2日
阳光电源 (300274 CH)
4Q25 业绩承压，长期成长逻辑未变
单季承压不改储能业务长期成长逻辑，维持买入：我们下调2026/27年盈利预测，将估值基准由22倍2026年市盈率
下调至20倍（过去4年平均为19.4 倍），下调目标价至155.00元人民币（原220.00元）。维持买入。
收盘价 目标价 潜在涨幅
人民币134.45人民币155.00↓ +15.3%
文昊, CPA
bob.wen@bocomgroup.com
(86) 21 6065 3667
郑民康
wallace.cheng@bocomgroup.com
(852) 3766 1810"""

CITI_NOTE = """See Appendix A-1 for Analyst Certification, Important Disclosures and Research Analyst Affiliations.
18 Mar 2026 18:21:03 ET │ 22 pages
Resilient Core & Strong CF Support AI Transformation Investment
CITI'S TAKE
We reiterate our Buy rating on Tencent with HK$787 TP and top-pick status.
Alicia Yap, CFA AC
+852-2501-2773
alicia.yap@citi.com
Nelson Cheung
nelson.cheung@citi.com
Buy
Price (18 Mar 26 16:10) HK$550.50
Target price HK$787.00↑
from HK$783.00
Price Performance
(RIC: 0700.HK, BB: 700 HK)
Citi Research is a division of Citigroup Global Markets Inc."""

JPM_NOTE = """www.jpmorganmarkets.com
Tencent (0700) Overweight
0700.HK, 700 HK
Still in the AI race; 2026 becomes a year of
reinvestment ▼
Price (18 Mar 26): HK$550.50
Price Target (Dec-26): HK$690.00
Prior (Dec-26): HK$750.00
Alex Yao AC
alex.yao@jpmorgan.com
SAC Registration Number: S1730523020001
Daniel Chen
daniel.q.chen@jpmorgan.com
SAC Registration Number: S1730521040001
J.P. Morgan Securities (China) Company Limited
together offer attractive risk-reward on a 12-month view. Maintain OW with a new PT of HK$690."""

NOMURA_NOTE = """EQUITY: INTERNET & NEW MEDIA
Tencent Holdings 0700.HK 700 HK
Global Markets Research
20 March 2026
Raising investments to capture the AI opportunity
Rating
Remains Buy
Target price
Reduced from
HKD 775.00
HKD 727.00
Closing price
20 March 2026 HKD 508.00
Research Analysts
China Internet & New Media
Jialong Shi - NIHK
Jialong.shi@nomura.com
+852 2252 1409"""

SINOLINK_MACRO = """宏观经济组
分析师：赵宏鹤（执业 S1130524120007）
zhaohonghe @gjzq.com.cn
分析师：宋雪涛（执业 S1130525030001）
songxuetao @gjzq.com.cn
中东战争：十字路口的特朗普
基本内容
如今局势，时间不在特朗普这边，考虑到60天的军事行动授权限制、5月中旬访华的愿景。
中东战争：
十字路口的特朗普
2026年03月31日
证券研究报告"""

# 国金's masthead ("阳光电源（300274.SZ）", the date) is drawn in a font whose digits have no text mapping.
SINOLINK_COMPANY_NO_DIGITS = """年底业绩波动不改长期趋势，经营现
金流同比大增
业绩简评
3月31日公司披露2025年年报，报告期间实现营收891.84亿元，维持“买入”评级。
新能源与电力设备组
分析师：姚遥（执业
分析师：宇文甸（执业
市价（人民币）：元
阳光电源
年月日
买入维持评级"""


def test_company_update_card() -> None:
    assert extract_metadata([SOOCHOW_COMPANY], "report.pdf", {}) == {
        "title": "2025年报点评：毛利率短期略有承压，储能高增持续，AIDC 潜力可期",
        "publisher": "东吴证券",
        "date": "2026-04-01",
        "report_kind": "公司点评",
        "analysts": "曾朵红 (S0600516080001); 郭亚男 (S0600523070003)",
        "company": "阳光电源",
        "ticker": "300274.SZ",
        "rating": "买入",
        "rating_action": "维持",
    }


def test_industry_weekly_card_leaves_out_the_research_assistant() -> None:
    meta = extract_metadata([SOOCHOW_WEEKLY], "report.pdf", {})
    assert meta["analysts"] == "陈海进 (S0600525020001)"  # 解承堯 is 研究助理 (S06001…: not an analyst's number)
    assert (meta["rating"], meta["rating_action"], meta["report_kind"]) == ("增持", "维持", "行业周报")
    assert meta["title"] == "海外算力周跟踪：光互联 CPO&OCS 共振，PCB 扩产加码迎技术升级新周期"
    assert not {"company", "ticker", "target_price"} & set(meta)  # a sector report: no company, no target


def test_target_price_with_previous_target_in_yuan() -> None:
    meta = extract_metadata([BOCOM_UPDATE], "report.pdf", {})
    assert (meta["company"], meta["ticker"]) == ("阳光电源", "300274.SZ")  # "300274 CH" is a Shenzhen code
    assert (meta["target_price"], meta["target_currency"], meta["previous_target"]) == ("155.00", "CNY", "220.00")
    assert (meta["rating"], meta["rating_action"], meta["date"]) == ("买入", "维持", "2026-04-02")
    assert meta["publisher"] == "交银国际" and meta["analysts"] == "文昊; 郑民康"


def test_english_note_cards() -> None:
    citi = extract_metadata([CITI_NOTE], "CITIGROUP-700.pdf", {})
    assert {k: citi[k] for k in ("publisher", "date", "ticker", "rating", "rating_action")} == {
        "publisher": "Citi", "date": "2026-03-18", "ticker": "0700.HK", "rating": "Buy", "rating_action": "维持"}
    assert (citi["target_price"], citi["target_currency"], citi["previous_target"]) == ("787.00", "HKD", "783.00")
    assert citi["title"] == "Resilient Core & Strong CF Support AI Transformation Investment"
    assert citi["analysts"] == "Alicia Yap; Nelson Cheung"
    jpm = extract_metadata([JPM_NOTE], "JP-700.pdf", {})
    assert (jpm["rating"], jpm["rating_action"], jpm["ticker"]) == ("Overweight", "维持", "0700.HK")
    assert (jpm["target_price"], jpm["previous_target"]) == ("690.00", "750.00")
    assert jpm["analysts"] == "Alex Yao (S1730523020001); Daniel Chen (S1730521040001)"
    assert jpm["title"] == "Still in the AI race; 2026 becomes a year of reinvestment"
    nomura = extract_metadata([NOMURA_NOTE], "NOMURA-700.pdf", {})
    assert (nomura["company"], nomura["ticker"], nomura["date"]) == ("Tencent Holdings", "0700.HK", "2026-03-20")
    assert (nomura["rating"], nomura["rating_action"]) == ("Buy", "维持")
    assert (nomura["target_price"], nomura["previous_target"]) == ("727.00", "775.00")
    assert nomura["title"] == "Raising investments to capture the AI opportunity"


def test_macro_report_card_has_no_call() -> None:
    assert extract_metadata([SINOLINK_MACRO], "report.pdf", {}) == {  # the firm is named on later pages only
        "title": "中东战争：十字路口的特朗普",
        "date": "2026-03-31",
        "report_kind": "宏观",
        "analysts": "赵宏鹤 (S1130524120007); 宋雪涛 (S1130525030001)",
    }


def test_file_name_convention_stands_in_for_an_unreadable_masthead() -> None:
    name = "20260331-国金证券-阳光电源（300274.SZ）：年底业绩波动不改长期趋势，经营现金流同比大增.pdf"
    named = extract_metadata([SINOLINK_COMPANY_NO_DIGITS], name, {})
    assert {k: named.get(k) for k in ("publisher", "date", "company", "ticker", "rating", "rating_action")} == {
        "publisher": "国金证券", "date": "2026-03-31", "company": "阳光电源", "ticker": "300274.SZ",
        "rating": "买入", "rating_action": "维持"}
    assert named["title"] == "年底业绩波动不改长期趋势，经营现金流同比大增"
    assert named["analysts"] == "姚遥; 宇文甸"
    # Without the name the page cannot say the date, the ticker or the firm: they stay absent.
    hidden = extract_metadata([SINOLINK_COMPANY_NO_DIGITS], "report.pdf", {})
    assert not {"date", "ticker", "company", "publisher"} & set(hidden)
    assert hidden["rating"] == "买入"


def test_ticker_forms() -> None:
    from ingest.broker_card import ticker_of

    assert ticker_of("300274") == "300274.SZ"
    assert ticker_of("603501 CH") == "603501.SH"
    assert ticker_of("688981") == "688981.SH"
    assert ticker_of("830799") == "830799.BJ"
    assert ticker_of("700 HK") == "0700.HK"
    assert ticker_of("00700.HK") == "0700.HK"
    assert ticker_of("0700", "0700.HK, 700 HK") == "0700.HK"
    assert ticker_of("0700") == "0700"  # a bare code is not read as Hong Kong without the page saying so


def test_issue_dates_and_related_report_dates() -> None:
    from ingest.dates import standalone_dates

    assert standalone_dates("ooo[Table_ReportInfo] 2026年03月31日") == ["2026-03-31"]
    assert standalone_dates("18 Mar 2026 18:21:03 ET │ 22 pages") == ["2026-03-18"]
    assert standalone_dates("Thursday, March 19, 2026") == ["2026-03-19"]
    assert standalone_dates("策略研究2026.04.01") == ["2026-04-01"]
    assert standalone_dates("2. 国内海洋经济启新程，美日央行按兵不\n动 (2026-03-22)") == []  # a related report
    assert standalone_dates("《阳光电源(300274)：2025年三季报》2025-10-29") == []
    assert standalone_dates("Closing price\n20 March 2026 HKD 508.00") == []
    assert standalone_dates("Timestamp: 22 March 2026 07:30PM EDT") == []


def test_broker_names() -> None:
    from ingest.brokers import brokers_named, canonical, named_file

    assert canonical("中国银河证券") == "银河证券" and canonical("Citigroup") == "Citi"
    assert brokers_named("China Merchants Securities (HK) Co., Ltd.; 招商证券国际") == {"招商证券国际": 2}
    named = named_file("20260402-交银国际-阳光电源（300274.SZ）：4Q25业绩承压，长期成长逻辑未变.pdf")
    assert (named.date, named.broker, named.company, named.code, named.title) == (
        "2026-04-02", "交银国际", "阳光电源", "300274.SZ", "4Q25业绩承压，长期成长逻辑未变")
    assert named_file("20260404-东吴证券-东吴证券策略周评：外部扰动下的“四月决断”.pdf").title == \
        "策略周评：外部扰动下的“四月决断”"
    assert named_file("CITIGROUP-700.pdf").date == ""
