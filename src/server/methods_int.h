/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the pieces of the methods (methods.c: views, param helpers, system, the
 * table; methods_services.c, methods_runs.c, methods_secrets.c: the handlers). */
#ifndef HPD_METHODS_INT_H
#define HPD_METHODS_INT_H

#include "server/server.h"

/* Param helpers and views shared by the handlers (methods.c, methods_services.c). */
cJSON *hpd__invalid(hpd_rpc_ctx *ctx, hp_problems *pb);
cJSON *hpd__list_result(hpd_rpc_ctx *ctx, const char *key, cJSON *items);
cJSON *hpd__service_status(hpd_server *srv, const hpd_service *svc);
cJSON *hpd__service_summary(hpd_server *srv, const hpd_service *svc);
cJSON *hpd__unchanged(hpd_rpc_ctx *ctx);
const char *hpd__str_param(hpd_rpc_ctx *ctx, const char *name);
hpd_job *hpd__need_job(hpd_rpc_ctx *ctx);
hpd_run *hpd__need_run(hpd_rpc_ctx *ctx);
hpd_service *hpd__need_service(hpd_rpc_ctx *ctx);
int hpd__bool_param(hpd_rpc_ctx *ctx, const char *name);
int hpd__refuse_new_run(hpd_rpc_ctx *ctx, const char *what);
int64_t hpd__int_param(hpd_rpc_ctx *ctx, const char *name, int64_t fallback);

/* The handlers of the table in methods.c. */
cJSON *hpd__m_events_wait(hpd_rpc_ctx *ctx);
cJSON *hpd__m_job_cancel(hpd_rpc_ctx *ctx);
cJSON *hpd__m_job_get(hpd_rpc_ctx *ctx);
cJSON *hpd__m_job_list(hpd_rpc_ctx *ctx);
cJSON *hpd__m_job_logs(hpd_rpc_ctx *ctx);
cJSON *hpd__m_logs_insert(hpd_rpc_ctx *ctx);
cJSON *hpd__m_logs_tail(hpd_rpc_ctx *ctx);
cJSON *hpd__m_logs_search(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_cancel(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_delete(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_get(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_list(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_submit(hpd_rpc_ctx *ctx);
cJSON *hpd__m_run_wait(hpd_rpc_ctx *ctx);
cJSON *hpd__m_secret_delete(hpd_rpc_ctx *ctx);
cJSON *hpd__m_secret_get(hpd_rpc_ctx *ctx);
cJSON *hpd__m_secret_list(hpd_rpc_ctx *ctx);
cJSON *hpd__m_secret_set(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_delete(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_get(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_list(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_restart(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_set(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_start(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_status(hpd_rpc_ctx *ctx);
cJSON *hpd__m_service_stop(hpd_rpc_ctx *ctx);
cJSON *hpd__m_token_create(hpd_rpc_ctx *ctx);
cJSON *hpd__m_token_list(hpd_rpc_ctx *ctx);
cJSON *hpd__m_token_revoke(hpd_rpc_ctx *ctx);

#endif
