/*
 * imgbox: the decoding sandbox. Untrusted image bytes are decoded only in
 * a process of their own: the adsmith-imgdec program (config key
 * decode_helper), fork+exec'd for each decode with an empty environment and
 * no file descriptor but the one socket that carries the bytes in and the
 * result out (the database connection, the log and every other descriptor
 * are closed before exec). The program holds no secret; it limits itself
 * (RLIMIT_AS decode_max_memory_mb, RLIMIT_CPU, RLIMIT_FSIZE 0, RLIMIT_NOFILE,
 * RLIMIT_CORE 0), installs a seccomp filter that allows reading its input,
 * writing its reply, memory management, the CPU clock and exit (any other
 * system call kills it), and only then reads the bytes and runs imgdec with
 * its bounds (decode_max_cpu_ms, the memory left, max_image_pixels).
 *
 * The parent sends the bytes, reads at most a bounded reply, and kills the
 * child past min(the caller's deadline, 5 x decode_max_cpu_ms of wall
 * clock). A crash, a signal, a bound, a reply that is not one: the call
 * answers IMGDEC_INVALID or IMGDEC_LIMIT with a message for the user, never
 * a dead caller. IMGDEC_FAILED means the sandbox itself could not run (the
 * program missing, no process to be had): the server's fault, logged.
 * IMGDEC_DEADLINE: the caller's deadline passed first.
 *
 * The reply (stdout of the program), one line then the payload:
 *   ADSIMG1 ok analysis FORMAT WIDTH HEIGHT GW GH EXIF_ORIENTATION HAS_ALPHA\n  GW*GH*4 bytes RGBA
 *   ADSIMG1 ok jpeg LENGTH\n  LENGTH bytes of JPEG
 *   ADSIMG1 limit|invalid MESSAGE\n
 *
 * Thread-safe: each call has its own process and socket. Results are owned
 * by the caller (imgdec_free, free).
 */
#ifndef ADS_IMGBOX_H
#define ADS_IMGBOX_H

#include <stddef.h>

#include "cfg.h"
#include "imgdec.h"

#define IMGBOX_MAGIC "ADSIMG1"

/* Decodes into an analysis grid of at most grid_side (struct image). */
int imgbox_analyze(const struct config *cfg, const void *data, size_t len, int grid_side, double deadline_ms,
                   struct image *out, char *err);

/* Decodes, box-averages to at most max_side, encodes a JPEG at quality. */
int imgbox_downscale_jpeg(const struct config *cfg, const void *data, size_t len, int max_side, int quality,
                          double deadline_ms, unsigned char **out, size_t *outlen, char *err);

/* The program's side: limits, seccomp, read, decode, reply. Returns its
 * exit status. argv: analysis|jpeg --bytes N --side N [--quality N]
 * [--max-pixels N] [--cpu-ms N] [--memory-mb N]. */
int imgbox_child_main(int argc, char **argv);

#endif
