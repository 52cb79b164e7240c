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

#endif
