"""Realistic Chinese strings shared by the report tests."""

from __future__ import annotations

# A t.me deep link with a 32-character payload, as the invite service makes them.
INVITE_PAYLOAD = "aB3_dE6-gH9iJ2kL5mN8oP1qR4sT7uV0"
INVITE_LINK = f"https://t.me/kepu_estation_bot?start={INVITE_PAYLOAD}"
# 40 Chinese characters.
LONG_STATION = "北京市海淀区中关村街道科普中国站第一服务站科普惠民信息员工作站示范点测试名称加长"
HEADING = "扫码加入科普中国信息员"
INSTRUCTIONS = [
    "用微信或手机相机扫描上方二维码，打开 Telegram。",
    "点击“开始”，阅读并同意《信息员须知》。",
    "按提示登记姓名和手机号，选择感兴趣的科普主题。",
    "每周转发科普内容，查看自己的传播统计和排名。",
]
FOOTER = "科普中国e站 · 城关镇科普服务站 · 咨询电话 0571-12345678"
CHART_TITLE = "城关镇科普e站周报 · 2026年第51周（12月14日—12月20日）"
CHART_SUBTITLE = "城关镇科普站　2026年第40–51周（截至12月20日）"
SERIES_LABELS = ["传播量", "分享次数", "活动"]
TOP_TITLE = "传播量前十名站点"
AXIS_LABELS = {"x": "周次", "bar": "传播量"}
STATIONS = [
    "城关镇科普服务站",
    "新华街道社区科普e站",
    "青山村农家书屋",
    "实验小学科技角",
    "县科技馆",
    "东湖社区卫生服务中心",
    "南岗乡综合文化站",
    "第一中学青少年科学工作室",
    "老年大学健康课堂",
    "城东产业园职工之家",
]
HEADERS = ["站点名称", "信息员", "传播量", "转发率", "统计日期", "备注"]
NOTES = ["数据来源：科普中国e站信息员网络；传播量含站外自报转发。", "导出时间：2026年12月21日"]
# Everyday characters beyond the strings above: digits, punctuation, common words.
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
    "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各"
    "重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代"
    "科普健康防疫安全环保气象地震应急食品营养睡眠急救消防反诈骗垃圾分类节水节能"
    "０１２３４５６７８９，。！？、；：“”‘’（）《》【】—…·％＋－×÷"
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,.;:!?()[]%+-−/ "
)
ALL_TEXT = "".join(
    [
        INVITE_LINK,
        LONG_STATION,
        HEADING,
        *INSTRUCTIONS,
        FOOTER,
        CHART_TITLE,
        CHART_SUBTITLE,
        *SERIES_LABELS,
        TOP_TITLE,
        *AXIS_LABELS.values(),
        *STATIONS,
        *HEADERS,
        *NOTES,
        COMMON,
    ]
)
