;; diff.binaryen seeds 4174, 20310, 20323 (fixed in 8311154): a comparison (or
;; i32.eqz) ending an if arm or a block was fused with the br_if / if after
;; the `end`, so the value arriving from the other arm or from a branch to the
;; block was ignored: each export returned 100 instead of 200.
(module
  (global $one (mut i32) (i32.const 1))
  (global $nine (mut i32) (i32.const 9))
  (global $zero64 (mut i64) (i64.const 0))
  ;; the else arm ends in a comparison; the then arm's 1 must take the br_if
  (func (export "if_arm_cmp_then_br_if") (result i32)
    block
      global.get $one
      if (result i32)
        i32.const 1
      else
        global.get $nine
        i32.const 5
        i32.lt_u
      end
      br_if 0
      i32.const 100
      return
    end
    i32.const 200)
  ;; the same with i32.eqz (fused as a branch on zero)
  (func (export "if_arm_eqz_then_br_if") (result i32)
    block
      global.get $one
      if (result i32)
        i32.const 1
      else
        global.get $nine
        i32.eqz
      end
      br_if 0
      i32.const 100
      return
    end
    i32.const 200)
  ;; a block ending in a comparison, left early by br_if with the value 0
  (func (export "block_cmp_then_if") (result i32)
    block (result i32)
      i32.const 0
      global.get $one
      br_if 0
      drop
      global.get $zero64
      i64.const 3
      i64.lt_s
    end
    if (result i32)
      i32.const 100
    else
      i32.const 200
    end))
