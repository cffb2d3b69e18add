#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "unit.h"
#include "util.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    struct config c;
    char err[ADS_ERRSZ];
    char path[] = "/tmp/adsmith-cfg-XXXXXX";
    int fd = mkstemp(path);

    close(fd);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("ADSMITH_WORKERS");
    unsetenv("ADSMITH_LISTEN");
    unsetenv("ADSMITH_CAMPAIGN_LISTEN");
    write_file(path, "# comment\nworkers = 7\n  auth = none  \nstorage_root=/srv/x\n");
    CHECK(cfg_load(&c, path, err) == 0);
    CHECK(c.workers == 7 && strcmp(c.auth, "none") == 0 && strcmp(c.storage_root, "/srv/x") == 0);
    CHECK(strcmp(c.video_provider, "none") == 0 && c.upload_expires == 3600);
    cfg_free(&c);

    setenv("ADSMITH_WORKERS", "3", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    CHECK(cfg_load(&c, path, err) == 0);
    /* AWS_ACCESS_KEY_ID is the credential chain's (awscreds), not a setting. */
    CHECK(c.workers == 3 && strcmp(c.s3_access_key_id, "") == 0);
    cfg_free(&c);
    unsetenv("ADSMITH_WORKERS");
    unsetenv("AWS_ACCESS_KEY_ID");

    write_file(path, "workers = 2\nbogus_key = 1\n");
    CHECK(cfg_load(&c, path, err) != 0);
    CHECK(strstr(err, ":2:") != NULL && strstr(err, "bogus_key") != NULL);
    cfg_free(&c);

    write_file(path, "workers = many\n");
    CHECK(cfg_load(&c, path, err) != 0 && strstr(err, ":1:") != NULL && strstr(err, "workers") != NULL);
    cfg_free(&c);

    write_file(path, "auth = maybe\n");
    CHECK(cfg_load(&c, path, err) != 0 && strstr(err, "api_key|none") != NULL);
    cfg_free(&c);

    write_file(path, "no equals sign here\n");
    CHECK(cfg_load(&c, path, err) != 0 && strstr(err, "key = value") != NULL);
    cfg_free(&c);

    write_file(path, "s3_secret_access_key = topsecret\n");
    CHECK(cfg_load(&c, path, err) == 0);
    {
        char dump[4096] = "";
        FILE *f = fmemopen(dump, sizeof dump, "w");
        cfg_dump(&c, f);
        fclose(f);
        CHECK(strstr(dump, "topsecret") == NULL && strstr(dump, "s3_secret_access_key = (set, hidden)") != NULL);
    }
    cfg_free(&c);

    {
        /* The campaign pool's socket: beside listen unless given; a TCP
         * listen needs it given; it can never be listen itself. */
        static const struct {
            const char *text;
            const char *want;   /* effective campaign_listen, or NULL: refused */
            const char *err;    /* part of the message when refused */
        } cases[] = {
            { "", "/run/adsmith/campaign.sock", NULL },
            { "listen = /srv/a/api.sock\n", "/srv/a/campaign.sock", NULL },
            { "listen = /srv/a/api.sock\ncampaign_listen = /srv/b/c.sock\n", "/srv/b/c.sock", NULL },
            { "listen = 127.0.0.1:9000\ncampaign_listen = 127.0.0.1:9001\n", "127.0.0.1:9001", NULL },
            { "listen = 127.0.0.1:9000\n", NULL, "set campaign_listen" },
            { "listen = /srv/a/x.sock\ncampaign_listen = /srv/a/x.sock\n", NULL, "must differ" },
            { "campaign_workers = 0\n", NULL, "campaign_workers" },
            { "campaign_workers = 257\n", NULL, "campaign_workers" },
            { "campaign_queue_timeout_ms = 50\n", NULL, "campaign_queue_timeout_ms" },
            { "campaign_workers = 250\ncampaign_queue = 6\n", "/run/adsmith/campaign.sock", NULL },
            { "campaign_workers = 250\ncampaign_queue = 7\n", NULL, "at most 256" },
        };
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int rc;
            write_file(path, cases[i].text);
            rc = cfg_load(&c, path, err);
            if (cases[i].want != NULL)
                CHECK(rc == 0 && strcmp(c.campaign_listen, cases[i].want) == 0);
            else
                CHECK(rc != 0 && strstr(err, cases[i].err) != NULL);
            cfg_free(&c);
        }
        write_file(path, "");
        CHECK(cfg_load(&c, path, err) == 0);
        CHECK(c.campaign_workers == 16 && c.campaign_queue == 4 && c.campaign_queue_timeout_ms == 5000);
        cfg_free(&c);
    }
    /* Webhooks: the secret is hidden, the default URL must be http(s), the
     * private-address switch is a yes/no. */
    write_file(path, "webhook_secret = whsec_topsecret\nwebhook_url = https://hooks.example.com/a\n");
    CHECK(cfg_load(&c, path, err) == 0 && c.webhook_timeout_ms == 5000 && c.webhook_max_attempts == 5 &&
          strcmp(c.webhook_allow_private, "no") == 0);
    {
        char dump[8192] = "";
        FILE *f = fmemopen(dump, sizeof dump, "w");
        cfg_dump(&c, f);
        fclose(f);
        CHECK(strstr(dump, "whsec_topsecret") == NULL && strstr(dump, "webhook_secret = (set, hidden)") != NULL);
    }
    cfg_free(&c);
    write_file(path, "webhook_url = ftp://hooks.example.com/a\n");
    CHECK(cfg_load(&c, path, err) != 0 && strstr(err, "webhook_url") != NULL);
    cfg_free(&c);
    write_file(path, "webhook_allow_private = maybe\n");
    CHECK(cfg_load(&c, path, err) != 0 && strstr(err, "webhook_allow_private must be a boolean") != NULL &&
          strstr(err, ":1:") != NULL);
    cfg_free(&c);
    /* Retention durations: the grammar, and a bad one named with its line. */
    {
        static const struct { const char *text; long secs; } durations[] = {
            { "forever", CFG_FOREVER }, { "30d", 30L * 86400 }, { "12h", 43200 }, { "90min", 5400 },
            { "45s", 45 }, { "2w", 1209600 }, { "1d 12h", 129600 }, { "1 day 12 hours", 129600 },
            { "3 days", 259200 }, { "1 second", 1 }, { "10 minutes", 600 }, { " 5h ", 18000 },
            { "36500d", 36500L * 86400 },
            /* Refused (-2): no unit, unknown or ambiguous units, zero, signs, overflow. */
            { "", -2 }, { "30", -2 }, { "d", -2 }, { "5m", -2 }, { "1mon", -2 }, { "0d", -2 }, { "-1d", -2 },
            { "1.5h", -2 }, { "1D", -2 }, { "Forever", -2 }, { "36501d", -2 }, { "99999999999999999999s", -2 },
            { "1d x", -2 }, { "never", -2 },
        };
        size_t i;
        for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
            long secs = 0;
            int rc = cfg_duration(durations[i].text, &secs);
            if (durations[i].secs == -2)
                CHECK(rc != 0);
            else
                CHECK(rc == 0 && secs == durations[i].secs);
            if ((durations[i].secs == -2) != (rc != 0) || (rc == 0 && secs != durations[i].secs))
                fprintf(stderr, "duration case '%s'\n", durations[i].text);
        }
        write_file(path, "");
        CHECK(cfg_load(&c, path, err) == 0 && strcmp(c.retain_products, "forever") == 0 &&
              strcmp(c.retain_images, "forever") == 0 && strcmp(c.retain_finished_jobs, "30d") == 0 &&
              strcmp(c.retain_uploads_unused, "30d") == 0);
        cfg_free(&c);
        write_file(path, "retain_images = 7 days\n");
        CHECK(cfg_load(&c, path, err) == 0 && strcmp(c.retain_images, "7 days") == 0);
        cfg_free(&c);
        write_file(path, "workers = 2\nretain_products = 30\n");
        CHECK(cfg_load(&c, path, err) != 0 && strstr(err, ":2:") != NULL && strstr(err, "retain_products") != NULL);
        cfg_free(&c);
        setenv("ADSMITH_RETAIN_FINISHED_JOBS", "soon", 1);
        write_file(path, "");
        CHECK(cfg_load(&c, path, err) != 0 && strstr(err, "RETAIN_FINISHED_JOBS") != NULL);
        cfg_free(&c);
        unsetenv("ADSMITH_RETAIN_FINISHED_JOBS");
    }

    /* Booleans: what PostgreSQL accepts, nothing else. */
    {
        static const struct { const char *text; int ok, value; } cases[] = {
            { "on", 1, 1 }, { "off", 1, 0 }, { "ON", 1, 1 }, { "Off", 1, 0 }, { "of", 1, 0 },
            { "true", 1, 1 }, { "false", 1, 0 }, { "TRUE", 1, 1 }, { "t", 1, 1 }, { "tr", 1, 1 }, { "tru", 1, 1 },
            { "f", 1, 0 }, { "fa", 1, 0 }, { "fals", 1, 0 }, { "FaLsE", 1, 0 },
            { "yes", 1, 1 }, { "no", 1, 0 }, { "Y", 1, 1 }, { "ye", 1, 1 }, { "n", 1, 0 }, { "NO", 1, 0 },
            { "1", 1, 1 }, { "0", 1, 0 },
            { "o", 0, 0 }, { "", 0, 0 }, { "2", 0, 0 }, { "01", 0, 0 }, { "10", 0, 0 }, { "truee", 0, 0 },
            { "yess", 0, 0 }, { "onn", 0, 0 }, { "offf", 0, 0 }, { "nope", 0, 0 }, { "enabled", 0, 0 },
            { "-1", 0, 0 }, { "t rue", 0, 0 }, { "maybe", 0, 0 },
        };
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int v = -1, rc = cfg_parse_bool(cases[i].text, &v);
            if (cases[i].ok != (rc == 0) || (rc == 0 && v != cases[i].value))
                fprintf(stderr, "bool case %zu '%s': rc %d value %d\n", i, cases[i].text, rc, v);
            CHECK(cases[i].ok == (rc == 0) && (rc != 0 || v == cases[i].value));
        }
    }
    /* Every boolean setting, from the file and the environment: stored as
     * yes/no; a bad one is an error naming the key. */
    {
        static const char *const bools[] = { "s3_path_style", "webhook_allow_private" };
        size_t i;
        for (i = 0; i < sizeof bools / sizeof bools[0]; i++) {
            char text[128], var[64];
            size_t j;
            snprintf(text, sizeof text, "%s = On\n", bools[i]);
            write_file(path, text);
            CHECK(cfg_load(&c, path, err) == 0);
            {
                char dump[8192] = "", want[96];
                FILE *f = fmemopen(dump, sizeof dump, "w");
                cfg_dump(&c, f);
                fclose(f);
                snprintf(want, sizeof want, "\n%s = yes\n", bools[i]);
                CHECK(strstr(dump, want) != NULL);
            }
            cfg_free(&c);
            snprintf(text, sizeof text, "%s = nein\n", bools[i]);
            write_file(path, text);
            CHECK(cfg_load(&c, path, err) != 0 && strstr(err, bools[i]) != NULL && strstr(err, "boolean") != NULL);
            cfg_free(&c);
            snprintf(var, sizeof var, "ADSMITH_%s", bools[i]);
            for (j = 8; var[j] != '\0'; j++)
                var[j] = (char)(var[j] >= 'a' && var[j] <= 'z' ? var[j] - 32 : var[j]);
            write_file(path, "");
            setenv(var, "0", 1);
            CHECK(cfg_load(&c, path, err) == 0);
            cfg_free(&c);
            setenv(var, "of", 1);
            CHECK(cfg_load(&c, path, err) == 0);
            cfg_free(&c);
            setenv(var, "o", 1);
            CHECK(cfg_load(&c, path, err) != 0 && strstr(err, var) != NULL && strstr(err, bools[i]) != NULL);
            cfg_free(&c);
            unsetenv(var);
        }
        write_file(path, "s3_path_style = TRUE\nwebhook_allow_private = f\n");
        CHECK(cfg_load(&c, path, err) == 0 && strcmp(c.s3_path_style, "yes") == 0 &&
              strcmp(c.webhook_allow_private, "no") == 0);
        cfg_free(&c);
    }
    unlink(path);
    return unit_done("cfg");
}
