#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "imgmake.h"
#include "unit.h"
#include "util.h"
#include "vision.h"

static int has_label(json_object *res, const char *name)
{
    json_object *labels;
    size_t i;

    json_object_object_get_ex(res, "labels", &labels);
    for (i = 0; i < json_object_array_length(labels); i++) {
        json_object *l = json_object_array_get_idx(labels, i), *n, *cats;
        json_object_object_get_ex(l, "name", &n);
        json_object_object_get_ex(l, "categories", &cats);
        if (strcmp(json_object_get_string(n), name) == 0 && json_object_is_type(cats, json_type_array))
            return 1;
    }
    return 0;
}

int main(void)
{
    static const unsigned char red[3] = { 220, 30, 35 }, navy[3] = { 20, 30, 90 };
    static const unsigned char white[3] = { 250, 250, 250 }, cream[3] = { 255, 245, 200 };
    struct config cfg;
    json_object *a, *b;
    char err[ADS_ERRSZ];
    unsigned char *d;
    size_t n;

    CHECK(strcmp(vision_color_name(20, 30, 90), "Navy Blue") == 0);
    CHECK(strcmp(vision_color_name(0, 0, 0), "Black") == 0);
    CHECK(strcmp(vision_color_name(255, 255, 255), "White") == 0);
    CHECK(strcmp(vision_color_name(40, 150, 60), "Green") == 0);

    CHECK(cfg_load(&cfg, NULL, err) == 0);
    d = make_jpeg(800, 600, red, navy, 0, 1, &n);
    CHECK(vision_analyze(&cfg, d, n, NULL, 0, &a, NULL, err) == 0);
    CHECK(has_label(a, "Navy Blue") && has_label(a, "Red") && has_label(a, "Landscape"));
    CHECK(vision_analyze(&cfg, d, n, NULL, 0, &b, NULL, err) == 0);
    CHECK(strcmp(json_object_to_json_string(a), json_object_to_json_string(b)) == 0);   /* deterministic */
    json_object_put(a);
    json_object_put(b);
    free(d);

    d = make_png(400, 600, white, cream, 8, 0, 0, &n);
    CHECK(vision_analyze(&cfg, d, n, NULL, 0, &a, NULL, err) == 0);
    CHECK(has_label(a, "Portrait") && has_label(a, "Bright") && !has_label(a, "Dark"));
    json_object_put(a);
    free(d);

    CHECK(vision_analyze(&cfg, "not an image at all", 19, NULL, 0, &a, NULL, err) == IMGDEC_INVALID);
    cfg_free(&cfg);
    return unit_done("vision");
}
