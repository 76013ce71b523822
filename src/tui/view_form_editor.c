/* SPDX-License-Identifier: Apache-2.0 */
/* Ctrl-E in a form: the focused script, command or env in $VISUAL/$EDITOR (default vi),
 * the terminal handed over and the text read back. */
#include "config.h"

#include "tui/view_form_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Ctrl-E: the focused script or env in $EDITOR (default vi), the terminal handed over. */
void tui__fv_edit_external(tui_app *app, form_view *v)
{
    item *it = &v->items[v->focus];
    const char *editor = getenv("VISUAL");
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    char *text = NULL;
    int fd, status = 0;
    pid_t pid;
    FILE *fp;

    if (it->kind != IT_MULTI && !(it->id == TUI_F_A_BODY || it->read_only)) {
        tui__fv_note(v, 1, "Ctrl-E edits the script, a command or env in $EDITOR: go to one first");
        return;
    }
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    tui__fv_sync_fields(v);
    snprintf(path, sizeof(path), "%s/hero_proc_form_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        tui__fv_note(v, 1, "cannot make a temporary file: %s", strerror(errno));
        return;
    }
    fp = fdopen(fd, "w");
    if (!fp || fputs(*it->slot, fp) < 0 || (**it->slot && fputc('\n', fp) < 0) || fclose(fp)) {
        if (!fp)
            close(fd);
        unlink(path);
        tui__fv_note(v, 1, "cannot write %s: %s", path, strerror(errno));
        return;
    }
    def_prog_mode();
    endwin();
    pid = fork();
    if (pid == 0) {
        /* The editor gets the terminal and nothing else of ours (the server's socket). */
        syscall(SYS_close_range, 3U, ~0U, 0U);
        execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, path, (char *)NULL);
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    reset_prog_mode();
    clearok(curscr, TRUE);
    refresh();
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tui__fv_note(v, 1, "%s did not exit cleanly: the %s is unchanged", editor, it->label);
    } else if (!(fp = fopen(path, "r"))) {
        tui__fv_note(v, 1, "cannot read %s back: %s", path, strerror(errno));
    } else {
        size_t cap = 0;
        ssize_t n = getdelim(&text, &cap, '\0', fp);
        fclose(fp);
        if (n < 0) {
            free(text);
            text = strdup("");
        }
        if (text) {
            size_t len = strlen(text);
            if (it->single_line || it->kind == IT_TEXT) /* a command: one line */
                for (char *c = text; *c; c++)
                    if (*c == '\n')
                        *c = ' ';
            while (len > 0 && (text[len - 1] == '\n' || (it->single_line && text[len - 1] == ' ')))
                text[--len] = '\0';
            if (strcmp(text, *it->slot) != 0) {
                tui_form_set(it->slot, text);
                v->dirty = 1;
            }
            tui__fv_note(v, 0, "%s edited in %s", it->label, editor);
        }
        free(text);
    }
    unlink(path);
    (void)app;
    tui__fv_leave_item(v);
}
