"""Canned campaign copy per language for the text-model emulators: short
real phrases, so a campaign asked for in Japanese, German or Brazilian
Portuguese answers in that language (and adsmith's language check can be
tested on real text). english=True answers in English whatever was asked,
to test the check's failure path."""

import json

PHRASES = {
    "en": ("Meet {n}", "Discover {n} and make every day a little easier.", "Show {n} in use and name the benefit.",
           "Introducing {n}", "Hello, we are happy to introduce {n}. See more on our site.",
           "How to use {n} every day", "Everything you need to know, explained simply.",
           ["The main features", "Tips for every day"]),
    "de": ("Neu für Sie: {n}", "Entdecken Sie {n} und machen Sie Ihren Alltag einfacher.",
           "Zeigen Sie {n} im Einsatz und nennen Sie den Nutzen.", "Neu bei uns: {n}",
           "Hallo, wir stellen Ihnen {n} vor. Jetzt mehr erfahren.", "So nutzen Sie {n} im Alltag",
           "Alles, was Sie wissen müssen, kurz erklärt.", ["Die wichtigsten Funktionen", "Tipps für den Alltag"]),
    "pt": ("Novidade para você: {n}", "Conheça {n} e deixe o seu dia a dia mais simples.",
           "Mostre {n} em uso e destaque o benefício.", "Chegou: {n}",
           "Olá! Apresentamos {n}. Veja mais no nosso site.", "Como usar {n} no dia a dia",
           "Tudo o que você precisa saber, de forma simples.", ["As principais funções", "Dicas para o dia a dia"]),
    "es": ("Novedad para ti: {n}", "Descubre {n} y haz tu día a día más fácil.",
           "Muestra {n} en uso y explica el beneficio.", "Llegó: {n}",
           "¡Hola! Te presentamos {n}. Mira más en nuestro sitio.", "Cómo usar {n} todos los días",
           "Todo lo que necesitas saber, explicado de forma sencilla.", ["Las funciones principales", "Consejos para cada día"]),
    "fr": ("Nouveau pour vous : {n}", "Découvrez {n} et simplifiez votre quotidien.",
           "Montrez {n} en situation et dites pourquoi il est utile.", "Voici {n}",
           "Bonjour, nous vous présentons {n}. Découvrez plus sur notre site.", "Bien utiliser {n} au quotidien",
           "Tout ce qu'il faut savoir, expliqué simplement.", ["Les fonctions principales", "Des conseils pour tous les jours"]),
    "it": ("Novità per te: {n}", "Scopri {n} e rendi più semplice la tua giornata.",
           "Mostra {n} in uso e spiega il vantaggio.", "Ecco {n}",
           "Ciao! Ti presentiamo {n}. Scopri di più sul nostro sito.", "Come usare {n} ogni giorno",
           "Tutto quello che c'è da sapere, spiegato in modo semplice.", ["Le funzioni principali", "Consigli per ogni giorno"]),
    "ja": ("新しい{n}をご紹介", "{n}で毎日がもっと楽しくなります。ぜひお試しください。",
           "冒頭で{n}を紹介し、使い方を見せます。", "{n}のご案内",
           "いつもありがとうございます。{n}をぜひご覧ください。", "{n}の使い方ガイド",
           "はじめての方にもわかりやすく説明します。", ["選び方のポイント", "お手入れの方法"]),
    "ko": ("새로운 {n}", "{n}, 지금 만나보세요. 일상이 더 편해집니다.", "처음에 {n} 사용 장면을 보여 주세요.",
           "새 소식: {n}", "안녕하세요. {n} 소식을 전해 드립니다.", "{n} 활용 가이드",
           "처음 쓰는 분도 쉽게 알 수 있도록 설명합니다.", ["주요 기능", "일상 속 활용 팁"]),
    "zh": ("新品推荐：{n}", "{n}让你的日常更轻松，快来看看吧。", "开头展示{n}的使用场景。", "新品上市：{n}",
           "你好！为你介绍{n}，欢迎了解更多。", "{n}使用指南", "用简单的方式告诉你需要知道的一切。", ["主要功能", "日常使用小技巧"]),
    "hi": ("नया {n}", "{n} के साथ अपने दिन को आसान बनाइए।", "शुरुआत में {n} का उपयोग दिखाइए।", "पेश है {n}",
           "नमस्ते! हम आपके लिए {n} लाए हैं।", "{n} का रोज़ाना उपयोग", "सब कुछ आसान भाषा में।", ["मुख्य विशेषताएँ", "रोज़ के सुझाव"]),
}


def phrases(lang):
    return PHRASES.get(lang, PHRASES.get(lang.split("-")[0].lower(), PHRASES["en"]))


def variant(market, lang, name, platforms=("Instagram", "TikTok"), english=False):
    topic, caption, script, subject, body, title, intro, points = phrases("en" if english else lang)
    f = lambda s: s.replace("{n}", name)  # noqa: E731
    return {"market": market, "language": lang,
            "content_ideas": [{"platform": p, "topic": f(topic), "caption": f(caption), "hashtags": ["#" + p]}
                              for p in platforms],
            "video_scripts": [{"type": "short_form_15s", "content": f(script)}],
            "email_templates": [{"subject": f(subject), "body": f(body)}],
            "blog_outlines": [{"title": f(title), "introduction": f(intro), "points": points}]}


def prompt_json(prompt, marker):
    try:
        return json.loads(prompt.split(marker, 1)[1])
    except (ValueError, KeyError, IndexError, TypeError):
        return {}


def variants_for(prompt, name, english=False):
    """market_variants for the markets and languages a campaign prompt names."""
    langs = prompt_json(prompt, "BRIEF AND RESEARCH:\n").get("market_languages") or []
    return [variant(m["market"], m["language"], name, english=english) for m in langs]


def localise(prompt, english=False):
    """The answer to a LOCALISATION REQUEST prompt: one market variant."""
    b = prompt_json(prompt, "BRIEF:\n")
    name = (b.get("product") or {}).get("name", "the product")
    platforms = b.get("platforms") or ["Instagram"]
    return variant(b.get("market", "?"), b.get("language", "en"), name, platforms, english=english)
