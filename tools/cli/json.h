/*
 * json.h - a small JSON parser for the spec-test runner.
 *
 * It parses a whole document into a tree. Strings keep an explicit length
 * because wast2json writes export names that contain NUL ("\u0000").
 * Everything is freed with json_free() on the root.
 */
#ifndef WEX_CLI_JSON_H
#define WEX_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type_t;

typedef struct json json_t;
typedef struct json_member json_member_t;

struct json {
    json_type_t type;
    union {
        bool boolean;
        double number;
        struct {
            char *chars; /* NUL-terminated, but may also contain NUL */
            size_t len;
        } string;
        struct {
            json_t *items;
            size_t len;
        } array;
        struct {
            json_member_t *members;
            size_t len;
        } object;
    } u;
};

struct json_member {
    char *key;
    size_t key_len;
    json_t value;
};

/* Parse text[0..len). Returns NULL on error and, if err is not NULL, writes a
 * message with the byte offset into err (errlen bytes). */
json_t *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_t *root);

/* Member `key` of an object, or NULL if v is not an object or has none. */
const json_t *json_get(const json_t *v, const char *key);
/* The string member `key`, or NULL if it is absent or not a string. */
const char *json_get_string(const json_t *v, const char *key, size_t *len);
/* The number member `key`, or dflt. */
double json_get_number(const json_t *v, const char *key, double dflt);
/* Array length (0 if not an array) and element i. */
size_t json_array_len(const json_t *v);
const json_t *json_array_at(const json_t *v, size_t i);

#endif
