/* The callback_url of a job request, shared by every route that queues a
 * job with a webhook. */
#include "api_int.h"
#include "util.h"
#include "webhook.h"

#include <string.h>

int api_callback_url(struct call *c, const char **out)
{
    const struct config *cfg = c->ctx->cfg;
    int allow_private = strcmp(cfg->webhook_allow_private, "yes") == 0;
    struct webhook_target t;
    char err[ADS_ERRSZ];
    int rc = api_field_str(c, c->body, "callback_url", "callbackUrl", out);

    if (rc < 0)
        return -1;
    if (rc == 0) {
        *out = cfg->webhook_url[0] != '\0' ? cfg->webhook_url : NULL;
        return 0;
    }
    if (webhook_url_parse(*out, allow_private, &t, err) != 0) {
        api_error(c, 400, "invalid_request", NULL, "%s", err);
        return -1;
    }
    return 1;
}
