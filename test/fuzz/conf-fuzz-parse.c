/*
 * libFuzzer target for the IOS configuration parser: any text either parses
 * into a valid configuration (which the show views must render) or fails
 * with an error naming a line, without leaking or crashing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf/conf.h"
#include "show/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vpn_conf *c = NULL;
    vpn_conf_error err;
    static char out[16384];
    vpn_show_buf b;

    if (vpn_conf_parse((const char *)data, size, &c, &err) != 0) {
        if (c != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    vpn_show_init(&b, out, sizeof out);
    vpn_show_ikev2_proposal(c, NULL, &b);
    vpn_show_ikev2_policy(c, NULL, &b);
    vpn_show_ikev2_profile(c, NULL, &b);
    vpn_conf_del(c);
    return 0;
}
