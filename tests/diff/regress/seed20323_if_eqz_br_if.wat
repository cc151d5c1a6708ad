;; diff.binaryen seed 20323 reduced by wasm-reduce (fixed in 8311154): the else arm ends
;; in i32.eqz, fused with the br_if after the if: the then arm's value was ignored (shoal 255).
(module
  (type (;0;) (func (result i32)))
  (func (;0;) (type 0) (result i32)
    (local i64)
    global.get 0
    i32.eqz
    if  ;; label = @1
      i32.const 20
      return
    end
    global.get 0
    i32.const 1
    i32.sub
    global.set 0
    loop (result i32)  ;; label = @1
      global.get 0
      i32.eqz
      if  ;; label = @2
        unreachable
      end
      global.get 0
      i32.const 1
      i32.sub
      global.set 0
      block (result i32)  ;; label = @2
        i32.const 15
        if (result i32)  ;; label = @3
          local.get 0
          drop
          i32.const -12986
        else
          loop (result i32)  ;; label = @4
            global.get 0
            i32.eqz
            if  ;; label = @5
              i32.const -1
              return
            end
            global.get 0
            i32.const 1
            i32.sub
            global.set 0
            br 0 (;@4;)
          end
          i32.eqz
        end
        br_if 1 (;@1;)
        i32.const 0
      end
    end
    i64.const 0
    i64.const -45
    i64.gt_u
    if (result i32)  ;; label = @1
      global.get 0
      i32.eqz
      if  ;; label = @2
        i32.const 0
        return
      end
      global.get 0
      i32.const 1
      i32.sub
      global.set 0
      i32.const -6618
    else
      i32.const 255
      return
    end
    loop (result i32)  ;; label = @1
      nop
      global.get 0
      i32.const 1
      i32.sub
      global.set 0
      nop
      br 0 (;@1;)
    end
    select)
  (global (;0;) (mut i32) (i32.const 10))
  (export "func" (func 0)))
