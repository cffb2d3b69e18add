/* imgbox: the decoding sandbox. Each crafted hostile file (written by
 * tests/hostile/mkhostile.py into $ADS_TEST_HOSTILE) answers what the table
 * says within the wall clock the table allows; honest images decode the
 * same as in-process; a helper that crashes, hangs, floods, lies or is
 * missing costs the caller a clear error, never itself; the helper gets no
 * descriptor and no environment of the caller. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "imgbox.h"
#include "imgmake.h"
#include "unit.h"
#include "util.h"
#include "vision.h"

static const struct hostile {
    const char *file;
    int rc;                /* IMGDEC_* expected */
    const char *says;      /* in the message, or NULL */
} table[] = {
    { "png-ztxt-bomb.png", IMGDEC_OK, NULL },                 /* text never inflated */
    { "png-iccp-bomb.png", IMGDEC_OK, NULL },                 /* the profile never inflated */
    { "png-many-idat.png", IMGDEC_OK, NULL },
    { "png-text-flood.png", IMGDEC_OK, NULL },
    { "png-huge-chunk.png", IMGDEC_OK, NULL },
    { "png-lying-length.png", IMGDEC_INVALID, "truncated" },
    { "png-wide-16bit.png", IMGDEC_LIMIT, "pixels per side" },
    { "png-max-16bit.png", -100, NULL },                      /* 1 s of CPU: OK, or a limit on a busy machine */
    { "png-interlaced-16bit.png", IMGDEC_LIMIT, "memory limit" },
    { "jpeg-many-scans.jpg", IMGDEC_LIMIT, "100 scans" },
    { "jpeg-huge-coefficients.jpg", IMGDEC_LIMIT, "memory limit" },
    { "jpeg-pixel-bomb.jpg", IMGDEC_LIMIT, "pixels per side" },
    { "webp-lossless-huge.webp", IMGDEC_LIMIT, "memory limit" },
    { "webp-vp8x-oversized.webp", IMGDEC_INVALID, NULL },
    { "webp-lossless-3000.webp", IMGDEC_OK, NULL },
    { "png-honest.png", IMGDEC_OK, NULL },
};

static char tmpdir[] = "/tmp/test_imgbox.XXXXXX";

static unsigned char *slurp(const char *dir, const char *name, size_t *n)
{
    char path[512], err[ADS_ERRSZ];
    char *d = NULL;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ads_read_file(path, 16u << 20, &d, n, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return (unsigned char *)d;
}

static void test_hostile(struct config *cfg, const char *dir)
{
    size_t i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct hostile *h = &table[i];
        struct image img;
        char err[ADS_ERRSZ] = "";
        size_t n = 0;
        unsigned char *d = slurp(dir, h->file, &n);
        double t = ads_now_ms(), wall;
        int rc;

        CHECK(d != NULL);
        if (d == NULL)
            continue;
        rc = imgbox_analyze(cfg, d, n, 160, 0, &img, err);
        wall = ads_now_ms() - t;
        printf("%-28s %8zu bytes  rc %d  %7.1f ms  %s\n", h->file, n, rc, wall, rc ? err : "ok");
        if (h->rc == -100)
            CHECK(rc == IMGDEC_OK || (rc == IMGDEC_LIMIT && (strstr(err, "CPU") || strstr(err, "time limit"))));
        else
            CHECK(rc == h->rc);
        if (h->says != NULL && strstr(err, h->says) == NULL)
            fprintf(stderr, "%s: \"%s\" does not say \"%s\"\n", h->file, err, h->says);
        CHECK(h->says == NULL || strstr(err, h->says) != NULL);
        /* Bounded: the wall-clock limit of the sandbox, whatever the file. */
        CHECK(wall < (double)cfg->decode_max_cpu_ms * 5 + 1000);
        if (rc == IMGDEC_OK)
            imgdec_free(&img);
        free(d);
    }
}

/* The sandbox's grid is the in-process decoder's, byte for byte. */
static void test_same_as_in_process(struct config *cfg)
{
    static const unsigned char red[3] = { 220, 30, 35 }, navy[3] = { 20, 30, 90 };
    struct { const char *what; unsigned char *d; size_t n; } img[3];
    struct image a, b;
    char err[ADS_ERRSZ];
    int i;

    img[0].what = "jpeg";
    img[0].d = make_jpeg(800, 600, red, navy, 1, 6, &img[0].n);
    img[1].what = "png";
    img[1].d = make_png(300, 200, red, navy, 16, 1, 1, &img[1].n);
    img[2].what = "webp";
    img[2].d = make_webp(320, 240, red, navy, &img[2].n);
    for (i = 0; i < 3; i++) {
        CHECK(imgbox_analyze(cfg, img[i].d, img[i].n, 160, 0, &a, err) == IMGDEC_OK);
        CHECK(imgdec_decode(img[i].d, img[i].n, cfg->max_image_pixels, 160, &b, err) == IMGDEC_OK);
        CHECK(strcmp(a.format, img[i].what) == 0 && a.width == b.width && a.height == b.height && a.gw == b.gw &&
              a.gh == b.gh && a.exif_orientation == b.exif_orientation && a.has_alpha == b.has_alpha &&
              memcmp(a.rgba, b.rgba, (size_t)a.gw * a.gh * 4) == 0);
        imgdec_free(&a);
        imgdec_free(&b);
    }
    /* Downscaled for a service: a JPEG of at most the side asked. */
    {
        unsigned char *j = NULL;
        size_t jn = 0;
        CHECK(imgbox_downscale_jpeg(cfg, img[0].d, img[0].n, 100, 85, 0, &j, &jn, err) == IMGDEC_OK);
        CHECK(imgdec_decode(j, jn, 1000000, 1000, &b, err) == IMGDEC_OK && b.width <= 100 && b.height <= 100);
        imgdec_free(&b);
        free(j);
    }
    for (i = 0; i < 3; i++)
        free(img[i].d);
    CHECK(imgbox_analyze(cfg, "GIF89a not ours", 15, 160, 0, &a, err) == IMGDEC_INVALID && strstr(err, "not a JPEG"));
    CHECK(imgbox_analyze(cfg, "", 0, 160, 0, &a, err) == IMGDEC_INVALID);
}

/* A stand-in program for the helper: a shell script. */
static char *script(const char *name, const char *body)
{
    static char path[8][600];
    static int next;
    char *p = path[next++ % 8];
    FILE *f;

    snprintf(p, 600, "%s/%s", tmpdir, name);
    f = fopen(p, "w");
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(p, 0755);
    return p;
}

static void test_misbehaving_helpers(struct config *cfg)
{
    static const unsigned char red[3] = { 220, 30, 35 }, navy[3] = { 20, 30, 90 };
    struct {
        const char *name, *body;
        int rc;
        const char *says;
    } cases[] = {
        { "crash", "kill -SEGV $$", IMGDEC_INVALID, "crashed" },
        { "hang", "exec sleep 30", IMGDEC_LIMIT, "time limit" },
        { "flood", "exec yes", IMGDEC_INVALID, "larger" },
        { "garbage", "echo 'hello there'", IMGDEC_INVALID, "not understood" },
        { "liar", "printf 'ADSIMG1 ok analysis png 10 10 10 10 1 0\\nshort'", IMGDEC_INVALID, "not understood" },
        { "bigger-grid", "printf 'ADSIMG1 ok analysis png 10 10 900 1 1 0\\n'", IMGDEC_INVALID, "not understood" },
        { "controls", "printf 'ADSIMG1 limit a\\033[2Jb\\n'", IMGDEC_LIMIT, "a?[2Jb" },
        { "fails", "exit 9", IMGDEC_INVALID, "failed" },
    };
    char *saved = cfg->decode_helper, err[ADS_ERRSZ];
    struct image img;
    size_t n, i;
    unsigned char *d = make_png(64, 64, red, navy, 8, 0, 0, &n);
    double t;

    cfg->decode_max_cpu_ms = 200;    /* 1 s of wall clock */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg->decode_helper = script(cases[i].name, cases[i].body);
        t = ads_now_ms();
        err[0] = '\0';
        CHECK(imgbox_analyze(cfg, d, n, 160, 0, &img, err) == cases[i].rc);
        CHECK(strstr(err, cases[i].says) != NULL);
        CHECK(ads_now_ms() - t < 3000);
        if (strstr(err, cases[i].says) == NULL)
            fprintf(stderr, "%s: %s\n", cases[i].name, err);
    }
    /* The caller's deadline comes first: killed then, and said so. */
    cfg->decode_max_cpu_ms = 2000;
    cfg->decode_helper = script("hang2", "exec sleep 30");
    t = ads_now_ms();
    CHECK(imgbox_analyze(cfg, d, n, 160, ads_now_ms() + 150, &img, err) == IMGDEC_DEADLINE);
    CHECK(ads_now_ms() - t < 1000);
    /* Missing program: the server's fault. */
    cfg->decode_helper = "/nonexistent/adsmith-imgdec";
    CHECK(imgbox_analyze(cfg, d, n, 160, 0, &img, err) == IMGDEC_FAILED);
    /* No descriptor and no environment of the caller reach the helper. */
    {
        int fd = dup2(open("/dev/null", O_RDONLY), 77);   /* like the database socket: not close-on-exec */
        char expect[64], body[300];
        setenv("ADS_TEST_SECRET", "s3cr3t", 1);
        snprintf(body, sizeof body, "printf 'ADSIMG1 invalid fd%%s env%%s\\n' $(ls /proc/$$/fd | grep -cx %d)"
                 " $(env | grep -c s3cr3t)", fd);
        cfg->decode_helper = script("fds", body);
        CHECK(imgbox_analyze(cfg, d, n, 160, 0, &img, err) == IMGDEC_INVALID);
        snprintf(expect, sizeof expect, "fd0 env0");
        CHECK(strcmp(err, expect) == 0);
        if (strcmp(err, expect) != 0)
            fprintf(stderr, "fds: %s\n", err);
        close(fd);
    }
    cfg->decode_helper = saved;
    free(d);
}

/* The vision stage through the sandbox; a type that is not the bytes'
 * is a warning, not a refusal. */
static void test_vision_declared(struct config *cfg)
{
    static const unsigned char red[3] = { 220, 30, 35 }, navy[3] = { 20, 30, 90 };
    json_object *a = NULL, *warnings = json_object_new_array();
    char err[ADS_ERRSZ];
    size_t n;
    unsigned char *d = make_jpeg(320, 240, red, navy, 0, 1, &n);

    CHECK(vision_analyze(cfg, d, n, "uploads/alice/x.jpg", 0, &a, warnings, err) == IMGDEC_OK);
    CHECK(json_object_array_length(warnings) == 0 && !json_object_object_get_ex(a, "declared_format", NULL));
    json_object_put(a);
    CHECK(vision_analyze(cfg, d, n, "uploads/alice/20260101_000000_x.png", 0, &a, warnings, err) == IMGDEC_OK);
    CHECK(json_object_array_length(warnings) == 1 &&
          strstr(json_object_get_string(json_object_array_get_idx(warnings, 0)), "uploaded as png but is a jpeg"));
    CHECK(strcmp(json_object_get_string(json_object_object_get(a, "declared_format")), "png") == 0);
    json_object_put(a);
    CHECK(strcmp(imgdec_declared_format("image/JPEG"), "jpeg") == 0 && imgdec_declared_format("x.gif") == NULL &&
          strcmp(imgdec_declared_format("a.webp"), "webp") == 0 && imgdec_declared_format("png") == NULL);
    json_object_put(warnings);
    free(d);
}

int main(void)
{
    struct config cfg;
    char err[ADS_ERRSZ];
    const char *dir = getenv("ADS_TEST_HOSTILE");

    CHECK(cfg_load(&cfg, NULL, err) == 0);
    CHECK(access(cfg.decode_helper, X_OK) == 0);
    CHECK(mkdtemp(tmpdir) != NULL);
    if (dir != NULL)
        test_hostile(&cfg, dir);
    else
        CHECK(!"ADS_TEST_HOSTILE names the generated files");
    test_same_as_in_process(&cfg);
    test_vision_declared(&cfg);
    test_misbehaving_helpers(&cfg);
    cfg_free(&cfg);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        CHECK(system(cmd) == 0);
    }
    return unit_done("imgbox");
}
