/*
 * module.c - freeing the module IR.
 */
#include "module/module.h"

void wex__module_free(wex__module *m) {
    if (!m) return;
    if (m->image.release) m->image.release(&m->image);
    for (uint32_t i = 0; i < m->ntypes; i++)
        wex__free(m->types[i].types);
    wex__free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        wex__free(m->imports[i].module);
        wex__free(m->imports[i].name);
    }
    wex__free(m->imports);
    wex__free(m->func_types);
    wex__free(m->tables);
    wex__free(m->mems);
    wex__free(m->global_types);
    wex__free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        wex__free(m->exports[i].name);
    wex__free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++) {
        wex__free(m->elems[i].funcs);
        wex__free(m->elems[i].exprs);
    }
    wex__free(m->elems);
    wex__free(m->datas);
    for (uint32_t i = 0; i < m->ncodes; i++)
        wex__free(m->codes[i].runs);
    wex__free(m->codes);
    if (m->func_names) {
        for (uint32_t i = 0; i < m->nfuncs; i++)
            wex__free(m->func_names[i]);
        wex__free(m->func_names);
    }
    wex__free(m->func_declared);
    wex__free(m->kinds);
    wex__free(m->bytes);
}
