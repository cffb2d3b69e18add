#include <string.h>

#include "langcheck.h"
#include "unit.h"

struct lc_case {
    const char *lang, *text;
    int want;
};

static const struct lc_case cases[] = {
    /* Each script, in its language. */
    { "ja", "新登場：オーロラ。毎日をもっと快適に。", LANGCHECK_OK },
    { "ja", "ご紹介します", LANGCHECK_OK },
    { "ko", "새롭게 선보이는 제품입니다. 댓글로 알려 주세요.", LANGCHECK_OK },
    { "zh-CN", "新品首发：让日常更轻松。", LANGCHECK_OK },
    { "ar", "اكتشف المنتج الجديد اليوم", LANGCHECK_OK },
    { "hi", "आज ही नया उत्पाद देखें", LANGCHECK_OK },
    { "ru", "Откройте для себя новинку", LANGCHECK_OK },
    { "uk", "Відкрийте для себе новинку", LANGCHECK_OK },
    { "el", "Ανακαλύψτε το νέο προϊόν", LANGCHECK_OK },
    { "he", "גלו את המוצר החדש", LANGCHECK_OK },
    { "th", "พบกับสินค้าใหม่วันนี้", LANGCHECK_OK },
    /* Latin languages by words and letters. */
    { "de", "Entdecken Sie Aurora: dimmbar und mit USB-C für Ihren Alltag.", LANGCHECK_OK },
    { "fr", "Découvrez Aurora : une lampe pour votre bureau, avec la lumière douce.", LANGCHECK_OK },
    { "es", "Descubre Aurora: luz cálida y más tiempo para ti.", LANGCHECK_OK },
    { "pt-BR", "Conheça Aurora: luz suave para o seu dia a dia, com você.", LANGCHECK_OK },
    { "it", "Scopri Aurora: la luce giusta per la tua giornata, più comoda.", LANGCHECK_OK },
    { "en", "Meet Aurora: the lamp that fits your desk and your day.", LANGCHECK_OK },
    { "fr-CA", "Découvrez la lampe Aurora pour votre bureau.", LANGCHECK_OK },
    /* English is not German, French, Spanish, Portuguese or Italian. */
    { "de", "Meet Aurora: the lamp that fits your desk and your day.", LANGCHECK_WRONG },
    { "fr", "Meet Aurora: the lamp that fits your desk and your day.", LANGCHECK_WRONG },
    { "pt-BR", "Discover Aurora, now with more light for your home.", LANGCHECK_WRONG },
    { "it", "Meet Aurora: the lamp that fits your desk.", LANGCHECK_WRONG },
    { "de", "Aurora Desk Lamp", LANGCHECK_WRONG },
    /* Spanish is not Portuguese and the other way round. */
    { "pt-BR", "Descubre Aurora: luz cálida y más tiempo para ti.", LANGCHECK_WRONG },
    { "es", "Conheça Aurora: luz suave para o seu dia a dia, com você.", LANGCHECK_WRONG },
    /* Wrong script. */
    { "ja", "Meet Aurora: the lamp that fits your desk.", LANGCHECK_WRONG },
    { "ja", "新品首发：让日常更轻松。", LANGCHECK_WRONG },           /* Chinese: no kana */
    { "zh-CN", "新登場：オーロラ。毎日をもっと快適に。", LANGCHECK_WRONG }, /* Japanese: kana */
    { "ko", "新品首发：让日常更轻松。", LANGCHECK_WRONG },
    { "ar", "Discover the new product today", LANGCHECK_WRONG },
    { "ru", "Discover the new product today", LANGCHECK_WRONG },
    { "en", "新品首发：让日常更轻松。", LANGCHECK_WRONG },
    /* Mixed text: a Latin product name inside Japanese, Korean, German. */
    { "ja", "Aurora Desk Lamp Pro のご紹介です。調光機能とUSB充電。", LANGCHECK_OK },
    { "ko", "Aurora Desk Lamp, 지금 만나보세요", LANGCHECK_OK },
    { "de", "Entdecken Sie Aurora Desk Lamp: Wireless charging base und mehr.", LANGCHECK_OK },
    { "ja", "Aurora Desk Lamp with wireless charging and five colour temperatures: 新", LANGCHECK_WRONG },
    /* Emoji, digits and punctuation are not letters. */
    { "ja", "🌟✨ 新登場！ 🎉 2024", LANGCHECK_WRONG },      /* Han only, no kana */
    { "ko", "🔥 신상 🔥", LANGCHECK_OK },
    /* Nothing to check. */
    { "de", "", LANGCHECK_EMPTY },
    { "ja", "🎉 2024 !!!", LANGCHECK_EMPTY },
    /* Invalid UTF-8: a lone continuation, an overlong, a surrogate, a cut sequence. */
    { "de", "Entdecken \x80 Sie", LANGCHECK_INVALID },
    { "en", "over\xc0\xaflong", LANGCHECK_INVALID },
    { "en", "sur\xed\xa0\x80rogate", LANGCHECK_INVALID },
    { "ja", "\xe6\x96", LANGCHECK_INVALID },
    /* Languages checked by script only, and those not checked at all. */
    { "sv", "Upptäck Aurora i dag", LANGCHECK_OK },
    { "sv", "新品首发", LANGCHECK_WRONG },
    { "xx", "anything at all", LANGCHECK_UNKNOWN },
    { NULL, NULL, 0 }
};

int main(void)
{
    const struct lc_case *c;
    char why[200];

    for (c = cases; c->lang != NULL; c++) {
        int rc = langcheck_text(c->lang, c->text, why, sizeof why);
        if (rc != c->want)
            fprintf(stderr, "case %s \"%s\": got %d (%s), want %d\n", c->lang, c->text, rc, why, c->want);
        CHECK(rc == c->want);
        CHECK(why[0] != '\0');
    }
    CHECK(strcmp(langcheck_word(LANGCHECK_OK), "passed") == 0);
    CHECK(strcmp(langcheck_word(LANGCHECK_WRONG), "failed") == 0);
    CHECK(strcmp(langcheck_word(LANGCHECK_INVALID), "failed") == 0);
    CHECK(strcmp(langcheck_word(LANGCHECK_UNKNOWN), "unchecked") == 0);
    CHECK(langcheck_text("de", NULL, NULL, 0) == LANGCHECK_INVALID);
    return unit_done("langcheck");
}
