/*
** Suspension: a host function returning SHOAL_ERR_SUSPENDED parks the whole
** execution in its store; shoal_store_resume retries the host function and
** the wasm frames continue. Thousands of parked stores, no OS threads.
*/
#include "eng_util.h"

/* State of one "env" "tick" (i32) -> (i32). Each call first suspends, then
** (on the retry made by resume) returns 2 * arg; so calls alternate between
** suspending and completing. */
typedef struct tick_state {
  int calls, suspends, completions;
  bool pending;                 /* the next call completes */
  int32_t pending_arg;
  bool arg_mismatch;            /* a retry saw other arguments */
  int trap_after;               /* > 0: the completion number that traps instead */
  bool never_suspend;
} tick_state;

static shoal_err_t host_tick(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  tick_state *t = env;
  t->calls++;
  int32_t arg = (int32_t)(uint32_t)io[0];
  if (!t->pending && !t->never_suspend) {
    t->pending = true;
    t->pending_arg = arg;
    t->suspends++;
    return SHOAL_ERR_SUSPENDED;
  }
  if (t->pending && arg != t->pending_arg) t->arg_mismatch = true;
  t->pending = false;
  t->completions++;
  if (t->trap_after && t->completions == t->trap_after)
    return shoal_caller_trap(c, "tick %d failed", arg);
  io[0] = (uint32_t)(arg * 2);
  return SHOAL_ERR_OK;
}

static const shoal_valtype_t I32[] = { SHOAL_I32 };
static const shoal_functype_t TICK_TYPE = { 1, 1, I32, I32 };

/* run(n) = sum over i < n of (2i + 1) = n^2 */
static int32_t expected_run(int32_t n) { return n * n; }

typedef struct susp_fixture {
  shoal_store_t *s;
  shoal_instance_t *inst;
  shoal_func_t *tick, *run;
} susp_fixture;

static void susp_setup(susp_fixture *fx, const shoal_module_t *m, tick_state *t,
                       const shoal_store_config_t *cfg) {
  memset(fx, 0, sizeof *fx);
  fx->s = util_store(cfg);
  fx->tick = shoal_func_new_host(fx->s, &TICK_TYPE, host_tick, t, NULL);
  ASSERT_TRUE(fx->tick != NULL);
  shoal_extern_t imp;
  imp.kind = SHOAL_EXTERN_FUNC;
  imp.of.func = fx->tick;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(fx->s, m, &imp, 1, &fx->inst, &d), &d);
  fx->run = shoal_instance_func(fx->inst, "run");
  ASSERT_TRUE(fx->run != NULL);
}

TEST(suspend_and_resume_loop) {
  shoal_module_t *m = util_module("eng_suspend");
  tick_state t;
  memset(&t, 0, sizeof t);
  susp_fixture fx;
  susp_setup(&fx, m, &t, NULL);
  shoal_val_t arg = util_i32(10), res;
  res.type = SHOAL_F64;   /* overwritten only on completion */
  res.of.i32 = -1;
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  ASSERT_TRUE(shoal_store_suspended(fx.s));
  ASSERT_EQ_INT(res.type, SHOAL_F64);
  ASSERT_EQ_INT(t.suspends, 1);
  int resumes = 0;
  shoal_err_t err;
  while ((err = shoal_store_resume(fx.s, &d)) == SHOAL_ERR_SUSPENDED) {
    resumes++;
    ASSERT_TRUE(shoal_store_suspended(fx.s));
    ASSERT_EQ_INT(t.suspends, resumes + 1);
    ASSERT_EQ_INT(t.completions, resumes);
    ASSERT_TRUE(resumes < 100);
  }
  ASSERT_OK_DIAG(err, &d);
  resumes++;
  ASSERT_TRUE(!shoal_store_suspended(fx.s));
  ASSERT_EQ_INT(resumes, 10);
  ASSERT_EQ_INT(t.calls, 20);
  ASSERT_EQ_INT(t.completions, 10);
  ASSERT_TRUE(!t.arg_mismatch);
  /* The result was written to the caller's buffer on completion. */
  ASSERT_EQ_INT(res.type, SHOAL_I32);
  ASSERT_EQ_INT(res.of.i32, expected_run(10));

  /* The store is usable again, for a plain call and another suspension. */
  shoal_val_t r2;
  arg = util_i32(5);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "plain"), &arg, 1, &r2, 1, &d));
  ASSERT_EQ_INT(r2.of.i32, 15);
  arg = util_i32(0);
  ASSERT_OK(shoal_func_call(fx.s, fx.run, &arg, 1, &r2, 1, &d));   /* no tick at all */
  ASSERT_EQ_INT(r2.of.i32, 0);
  shoal_store_free(fx.s);
  shoal_module_free(m);
}

TEST(suspend_raw_call) {
  shoal_module_t *m = util_module("eng_suspend");
  tick_state t;
  memset(&t, 0, sizeof t);
  susp_fixture fx;
  susp_setup(&fx, m, &t, NULL);
  shoal_raw_t io[1] = { 7 };
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call_raw(fx.s, fx.run, io, &d), SHOAL_ERR_SUSPENDED);
  int n = 0;
  shoal_err_t err;
  while ((err = shoal_store_resume(fx.s, &d)) == SHOAL_ERR_SUSPENDED) n++;
  ASSERT_OK_DIAG(err, &d);
  ASSERT_EQ_INT(n, 6);
  ASSERT_EQ_INT(io[0], expected_run(7));
  shoal_store_free(fx.s);
  shoal_module_free(m);
}

TEST(suspend_thousands_of_stores) {
  /* 2000 stores, each parked in the middle of run(5) at the same time,
  ** then resumed round-robin: every execution keeps its own frames. */
  enum { NSTORES = 2000 };
  shoal_module_t *m = util_module("eng_suspend");
  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.stack_bytes = 16 * 1024;
  cfg.max_call_depth = 64;
  susp_fixture *fx = calloc(NSTORES, sizeof *fx);
  tick_state *t = calloc(NSTORES, sizeof *t);
  shoal_val_t *res = calloc(NSTORES, sizeof *res);
  ASSERT_TRUE(fx && t && res);
  shoal_diag_t d;
  for (int i = 0; i < NSTORES; i++) {
    susp_setup(&fx[i], m, &t[i], &cfg);
    shoal_val_t arg = util_i32(5 + i % 4);   /* different lengths of work */
    ASSERT_ERR(shoal_func_call(fx[i].s, fx[i].run, &arg, 1, &res[i], 1, &d), SHOAL_ERR_SUSPENDED);
  }
  for (int i = 0; i < NSTORES; i++) ASSERT_TRUE(shoal_store_suspended(fx[i].s));
  int done = 0, rounds = 0, resumes = 0;
  while (done < NSTORES) {
    rounds++;
    ASSERT_TRUE(rounds <= 20);
    for (int i = 0; i < NSTORES; i++) {
      if (!shoal_store_suspended(fx[i].s)) continue;
      shoal_err_t err = shoal_store_resume(fx[i].s, &d);
      resumes++;
      if (err == SHOAL_ERR_SUSPENDED) continue;
      ASSERT_OK_DIAG(err, &d);
      done++;
    }
  }
  ASSERT_EQ_INT(rounds, 8);   /* the longest runs tick 8 times */
  int want_resumes = 0;
  for (int i = 0; i < NSTORES; i++) {
    int32_t n = 5 + i % 4;
    want_resumes += n;
    ASSERT_EQ_INT(res[i].of.i32, expected_run(n));
    ASSERT_EQ_INT(t[i].completions, n);
    ASSERT_EQ_INT(t[i].suspends, n);
    ASSERT_TRUE(!t[i].arg_mismatch);
  }
  ASSERT_EQ_INT(resumes, want_resumes);
  for (int i = 0; i < NSTORES; i++) shoal_store_free(fx[i].s);
  free(fx);
  free(t);
  free(res);
  shoal_module_free(m);
}

TEST(cancel_suspended_execution) {
  shoal_module_t *m = util_module("eng_suspend");
  tick_state t;
  memset(&t, 0, sizeof t);
  susp_fixture fx;
  susp_setup(&fx, m, &t, NULL);
  shoal_val_t arg = util_i32(4), res;
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  ASSERT_ERR(shoal_store_resume(fx.s, &d), SHOAL_ERR_SUSPENDED);

  /* While suspended, nothing else may run in the store. */
  shoal_val_t r2;
  ASSERT_ERR(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "plain"), &arg, 1, &r2, 1, &d),
             SHOAL_ERR_ARG);
  ASSERT_CONTAINS(d.message, "suspended");

  shoal_store_cancel(fx.s);
  ASSERT_TRUE(!shoal_store_suspended(fx.s));
  ASSERT_ERR(shoal_store_resume(fx.s, &d), SHOAL_ERR_ARG);
  ASSERT_CONTAINS(d.message, "nothing is suspended");
  shoal_store_cancel(fx.s);   /* harmless twice */

  /* A fresh execution starts from scratch and completes. */
  memset(&t, 0, sizeof t);
  arg = util_i32(3);
  ASSERT_ERR(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  shoal_err_t err;
  while ((err = shoal_store_resume(fx.s, &d)) == SHOAL_ERR_SUSPENDED) {}
  ASSERT_OK_DIAG(err, &d);
  ASSERT_EQ_INT(res.of.i32, expected_run(3));

  /* Freeing a store with a parked execution releases everything. */
  ASSERT_ERR(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  shoal_store_free(fx.s);
  shoal_module_free(m);
}

TEST(trap_after_resume) {
  shoal_module_t *m = util_module("eng_suspend");
  tick_state t;
  memset(&t, 0, sizeof t);
  t.trap_after = 3;
  susp_fixture fx;
  susp_setup(&fx, m, &t, NULL);
  shoal_val_t arg = util_i32(10), res;
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  shoal_err_t err;
  int n = 0;
  while ((err = shoal_store_resume(fx.s, &d)) == SHOAL_ERR_SUSPENDED) n++;
  ASSERT_ERR(err, SHOAL_ERR_TRAP_HOST);
  ASSERT_EQ_INT(n, 2);
  ASSERT_EQ_STR(d.message, "tick 2 failed");
  /* The backtrace still shows the wasm frames that were parked. */
  ASSERT_EQ_STR(d.trace, "  #0 step (func 1)\n  #1 run (func 2)\n");
  ASSERT_TRUE(!shoal_store_suspended(fx.s));
  /* And the store runs again. */
  memset(&t, 0, sizeof t);
  t.never_suspend = true;
  ASSERT_OK_DIAG(shoal_func_call(fx.s, fx.run, &arg, 1, &res, 1, &d), &d);
  ASSERT_EQ_INT(res.of.i32, expected_run(10));
  shoal_store_free(fx.s);
  shoal_module_free(m);
}

TEST(direct_host_call_suspends) {
  shoal_store_t *s = util_store(NULL);
  tick_state t;
  memset(&t, 0, sizeof t);
  shoal_func_t *tick = shoal_func_new_host(s, &TICK_TYPE, host_tick, &t, NULL);
  ASSERT_TRUE(tick != NULL);
  shoal_val_t arg = util_i32(21), res;
  memset(&res, 0, sizeof res);
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call(s, tick, &arg, 1, &res, 1, &d), SHOAL_ERR_SUSPENDED);
  ASSERT_TRUE(shoal_store_suspended(s));
  ASSERT_EQ_INT(t.calls, 1);
  ASSERT_OK_DIAG(shoal_store_resume(s, &d), &d);
  ASSERT_EQ_INT(t.calls, 2);
  ASSERT_TRUE(!t.arg_mismatch);
  ASSERT_EQ_INT(res.type, SHOAL_I32);
  ASSERT_EQ_INT(res.of.i32, 42);
  ASSERT_TRUE(!shoal_store_suspended(s));

  /* The raw variant. */
  shoal_raw_t io[1] = { 50 };
  ASSERT_ERR(shoal_func_call_raw(s, tick, io, &d), SHOAL_ERR_SUSPENDED);
  ASSERT_OK_DIAG(shoal_store_resume(s, &d), &d);
  ASSERT_EQ_INT(io[0], 100);
  ASSERT_EQ_INT(t.calls, 4);
  shoal_store_free(s);
}

/* "env" "tick" for re-entry: at depth 0 it calls the export `target` back
** with its own argument and returns that result + 1000; nested, it returns
** 2 * arg, or tries to suspend. */
typedef struct reenter_state {
  shoal_func_t *target;
  int depth, nested_calls;
  bool suspend_nested;
  shoal_err_t nested_err;
} reenter_state;

static shoal_err_t host_reenter(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  reenter_state *r = env;
  int32_t arg = (int32_t)(uint32_t)io[0];
  if (r->depth > 0) {
    r->nested_calls++;
    if (r->suspend_nested) return SHOAL_ERR_SUSPENDED;
    io[0] = (uint32_t)(arg * 2);
    return SHOAL_ERR_OK;
  }
  r->depth++;
  shoal_val_t a = util_i32(arg), res;
  shoal_diag_t d;
  r->nested_err = shoal_func_call(shoal_caller_store(c), r->target, &a, 1, &res, 1, &d);
  r->depth--;
  if (r->nested_err != SHOAL_ERR_OK) return shoal_caller_trap(c, "nested: %s", d.message);
  io[0] = (uint32_t)(res.of.i32 + 1000);
  return SHOAL_ERR_OK;
}

TEST(host_reenters_wasm) {
  shoal_module_t *m = util_module("eng_suspend");
  shoal_store_t *s = util_store(NULL);
  reenter_state r;
  memset(&r, 0, sizeof r);
  shoal_extern_t imp;
  imp.kind = SHOAL_EXTERN_FUNC;
  imp.of.func = shoal_func_new_host(s, &TICK_TYPE, host_reenter, &r, NULL);
  shoal_instance_t *inst = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, &imp, 1, &inst, &d), &d);
  r.target = shoal_instance_func(inst, "run");
  /* run(3): tick(i) = run(i) + 1000 with run(i) = i^2 inside (nested ticks
  ** return 2i), so the outer sum is sum(i^2 + 1001) over i < 3. */
  shoal_val_t arg = util_i32(3), res;
  ASSERT_OK_DIAG(shoal_func_call(s, r.target, &arg, 1, &res, 1, &d), &d);
  ASSERT_EQ_INT(res.of.i32, (0 + 1 + 4) + 3 * 1001);
  ASSERT_EQ_INT(r.nested_calls, 0 + 1 + 2);

  /* Only the outermost execution can suspend: a nested one that tries
  ** gets a trap, which the host passes on. */
  r.suspend_nested = true;
  ASSERT_ERR(shoal_func_call(s, r.target, &arg, 1, &res, 1, &d), SHOAL_ERR_TRAP_HOST);
  ASSERT_ERR(r.nested_err, SHOAL_ERR_TRAP_HOST);
  ASSERT_EQ_STR(d.message, "nested: cannot suspend inside a nested call");
  ASSERT_TRUE(!shoal_store_suspended(s));
  r.suspend_nested = false;
  ASSERT_OK_DIAG(shoal_func_call(s, r.target, &arg, 1, &res, 1, &d), &d);
  ASSERT_EQ_INT(res.of.i32, 5 + 3 * 1001);
  shoal_store_free(s);
  shoal_module_free(m);
}
