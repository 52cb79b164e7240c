/*
 * util.h - small helpers shared by the CLI's commands.
 */
#ifndef WEX_CLI_UTIL_H
#define WEX_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read a whole file into a malloc'd buffer (caller frees). On failure
 * returns false and writes the reason to why. */
bool cli_read_file(const char *path, uint8_t **bytes, size_t *len, char *why, size_t whylen);
/* The same, unless the file starts with the 8 bytes of magic: then *found
 * is set, true is returned and nothing is read further. */
bool cli_read_file_unless(const char *path, const char *magic, bool *found, uint8_t **bytes,
                          size_t *len, char *why, size_t whylen);

#endif
