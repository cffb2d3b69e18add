/* youtube: the documented relevance score, and a missing key answered
 * without a call. The API itself is exercised against the emulator in the
 * integration suite. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "unit.h"
#include "util.h"
#include "youtube.h"

int main(void)
{
    struct config cfg;
    json_object *videos = (json_object *)1;
    char *query = (char *)1;
    char err[ADS_ERRSZ], warning[ADS_ERRSZ];

    CHECK(youtube_relevance(0, 10, 0) == 60);
    CHECK(youtube_relevance(9, 10, 0) == 6);
    CHECK(youtube_relevance(0, 10, 10000000) == 100);
    CHECK(youtube_relevance(0, 10, 999999999999LL) == 100);      /* capped */
    CHECK(youtube_relevance(5, 10, 1000) == 47);                  /* 30 + 40 * log10(1001) / 7 */
    CHECK(youtube_relevance(10, 10, 5) == 0 && youtube_relevance(-1, 10, 5) == 0);
    CHECK(youtube_relevance(0, 1, 0) == 60);

    unsetenv("YOUTUBE_API_KEY");
    unsetenv("ADSMITH_YOUTUBE_API_KEY");
    CHECK(cfg_load(&cfg, NULL, err) == 0);
    CHECK(youtube_related(&cfg, "Lamp", "Home", ads_now_ms() + 5000, &videos, &query, warning) == -1);
    CHECK(videos == NULL && query == NULL && strstr(warning, "no API key") != NULL);
    cfg_free(&cfg);

    setenv("YOUTUBE_API_KEY", "AIzaSyTestKeyFromTheEnvironment", 1);
    CHECK(cfg_load(&cfg, NULL, err) == 0);
    CHECK(strcmp(cfg.youtube_api_key, "AIzaSyTestKeyFromTheEnvironment") == 0);
    cfg_free(&cfg);
    return unit_done("test_youtube");
}
