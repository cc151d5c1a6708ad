;; Code shapes where the compiler's fusions must not reach across a branch
;; target (tests/engine/test_fuse.c).
(module
  ;; The add that sets $x ends right where the loop starts, and the loop
  ;; begins with the back-edge test on $x: fusing the add into the
  ;; back-edge would move it into the loop. For p < -1 the loop never ends.
  (func (export "add_before_loop") (param $p i32) (result i32)
    (local $x i32)
    (local.set $x (i32.add (local.get $p) (i32.const 1)))
    (loop $l
      (br_if $l (i32.lt_s (local.get $x) (i32.const 0))))
    (local.get $x))

  ;; A shift computed before a block is added inside it (loop with a param).
  (func (export "shift_across_block") (param $p i32) (result i32)
    (i32.shl (local.get $p) (i32.const 2))
    (block (param i32) (result i32)
      (i32.add (local.get $p)))
  )

  ;; A comparison computed before a loop with a param, tested inside it.
  (func (export "cmp_across_loop") (param $p i32) (result i32)
    (local $n i32)
    (i32.lt_s (local.get $p) (i32.const 10))
    (loop $l (param i32)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.lt_s (local.get $n) (i32.const 3)) (then (br $l (i32.const 1))))
      (drop))
    (local.get $n))

  ;; Consecutive copies at a loop head: the second is a branch target.
  (func (export "copies_at_label") (param $p i32) (result i32)
    (local $a i32) (local $b i32) (local $i i32)
    (local.set $a (local.get $p))
    (loop $l
      (local.set $b (local.get $a))
      (local.set $a (i32.add (local.get $b) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5))))
    (i32.add (local.get $a) (i32.mul (local.get $b) (i32.const 100))))
;; an unconditional back-edge after `i = i + 1` (ADDI_BR_BACK) still
  ;; spends fuel: with p > 0 it never ends
  (func (export "addi_spin") (param $p i32) (result i32)
    (local $i i32)
    (loop $l
      (if (i32.eqz (local.get $p)) (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (unreachable))
;; a BUMP_LOOP that does not end (the test j != 0 with j stepping by 2
  ;; from 1) also spends fuel: it stores through p, wrapped to stay in page 0
  (memory 1)
  (func (export "bump_spin") (param $p i32) (result i32)
    (local $j i32) (local $s i32)
    (local.set $j (i32.const 1))
    (local.set $s (i32.const 0))
    (loop $l
      (i32.store8 (local.get $s) (local.get $p))
      (local.set $s (i32.add (local.get $s) (i32.const 0)))
      (br_if $l (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $p))))
    (local.get $j))
  ;; a loop whose then-arm jumps to the end of a block followed by the
  ;; back-edge: the jump becomes a copy of the back-edge, which still
  ;; spends fuel (p = 0 never ends; p = 1 returns at once)
  (func (export "dup_spin") (param $p i32) (result i32)
    (local $i i32)
    (loop $l
      (if (i32.eq (local.get $p) (i32.const 1)) (then (return (local.get $i))))
      (block $b
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $p (i32.add (local.get $p) (i32.const 2))) (br $b)))
        (local.set $p (i32.sub (local.get $p) (i32.const 2))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (unreachable))
)
