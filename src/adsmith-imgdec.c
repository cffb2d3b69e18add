/*
 * adsmith-imgdec: the decoding sandbox's program. Reads one image on stdin,
 * writes its analysis grid or a downscaled JPEG on stdout, under its own
 * resource limits and a seccomp filter (src/image/imgbox.h). Started by the
 * API for each decode; holds no secret and reads no configuration.
 */
#include "imgbox.h"

int main(int argc, char **argv)
{
    return imgbox_child_main(argc, argv);
}
