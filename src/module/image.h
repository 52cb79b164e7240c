/*
 * image.h - the copy-on-write image of a module's initial linear memory.
 *
 * This is the contract between three subsystems:
 *   - alloc (instantiation strategies) builds the image when a module is
 *     compiled from bytes (wex__image_build) and maps it privately over the
 *     start of a new memory at instantiation;
 *   - cache (serialized artifacts) stores the image bytes page-aligned in the
 *     artifact file and, when a module is loaded from a file, fills in an
 *     image whose fd/fd_offset name that file, so that it is mapped straight
 *     from it;
 *   - instance skips applying active data segments of the imaged memory when
 *     an image is in force (they are all inside it).
 *
 * The image covers bytes [0, size) of defined memory 0. size is a multiple of
 * WEX__IMAGE_ALIGN; bytes past the last segment are zero.
 */
#ifndef WEX_MODULE_IMAGE_H
#define WEX_MODULE_IMAGE_H

#include <stdint.h>

/* Alignment of the image's size and of its offset inside an artifact: the
 * WebAssembly page, which is a multiple of every host page size wex supports. */
#define WEX__IMAGE_ALIGN 65536u

typedef struct wex__image {
    uint64_t size;        /* bytes, multiple of WEX__IMAGE_ALIGN; 0: no image */
    const uint8_t *bytes; /* the contents (size bytes), for copying; may point into a mapping */
    int fd;               /* when size > 0: descriptor to mmap(MAP_PRIVATE) from (a memfd or
                           * the artifact), or -1 to copy from bytes instead */
    uint64_t fd_offset;   /* where the image starts in fd, multiple of WEX__IMAGE_ALIGN */
    const char *no_image; /* when size == 0: why there is no image (static string), else NULL */
    void (*release)(struct wex__image *img); /* frees what the image owns; may be NULL */
} wex__image;

#endif
