#ifndef CEDITLINE_SHIM_H
#define CEDITLINE_SHIM_H
#include <stdio.h>
#include <histedit.h>
#include <editline/readline.h>

/*
 * el_set, el_get and history take variable arguments, which Swift cannot call: one small
 * non-variadic wrapper for each use the prompt makes of them.
 */

/* The prompt: a function returning the text to show (libedit copies it at each refresh). */
static inline int cedit_set_prompt(EditLine *el, char *(*prompt)(EditLine *)) {
    return el_set(el, EL_PROMPT, prompt);
}
/* Key bindings: "emacs" or "vi". */
static inline int cedit_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
/* Whether libedit installs its own signal handlers while reading (the prompt keeps it off). */
static inline int cedit_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
/* The history list that up and down arrows walk. */
static inline int cedit_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
/* The function that reads one character: 1 and the character, 0 at end of input, -1 on error. */
static inline int cedit_set_getc(EditLine *el, int (*getc)(EditLine *, wchar_t *)) {
    return el_set(el, EL_GETCFN, getc);
}
/* A pointer the callbacks get back with cedit_clientdata. */
static inline int cedit_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
static inline void *cedit_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}
/* Adds an editor function named `name`, then binds a key sequence ("^I") to it. */
static inline int cedit_add_function(EditLine *el, const char *name, const char *help,
                                     unsigned char (*function)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, function);
}
static inline int cedit_bind(EditLine *el, const char *key, const char *name) {
    return el_set(el, EL_BIND, key, name, NULL);
}

/* History: its size cap, and adding an entry. */
static inline int cedit_history_setsize(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}
static inline int cedit_history_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}

#endif
