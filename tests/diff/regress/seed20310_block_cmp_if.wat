;; diff.binaryen seed 20310 reduced by wasm-reduce (fixed in 8311154): block @2 ends in
;; i64.lt_s, fused with the if after it, ignoring the br 1 (i32.const 0) out of block @3.
(module
  (type (;0;) (func (param i32)))
  (type (;1;) (func (param i32 i64 f32 f64 f32 f64 i64) (result i64)))
  (import "fuzzing-support" "log-i32" (func (;0;) (type 0)))
  (func (;1;) (type 1) (param i32 i64 f32 f64 f32 f64 i64) (result i64)
    global.get 0
    i32.eqz
    drop
    global.get 0
    i32.const 1
    i32.sub
    global.set 0
    loop (result i64)  ;; label = @1
      i32.const 1
      i32.eqz
      drop
      global.get 0
      i32.const 1
      i32.sub
      global.set 0
      block (result i32)  ;; label = @2
        i64.const 1
        block (result i64)  ;; label = @3
          global.get 0
          i32.eqz
          if  ;; label = @4
            unreachable
          end
          global.get 0
          i32.const 1
          i32.sub
          global.set 0
          i32.const 0
          f32.const 0x0p+0 (;=0;)
          f32.store offset=22 align=1
          nop
          i32.const 0
          br 1 (;@2;)
        end
        i64.lt_s
      end
      if (result i32)  ;; label = @2
        i32.const -96
      else
        i32.const 0
        call 0
        local.get 0
      end
      i32.const 15
      i32.and
      i32.load offset=4 align=2
      i32.eqz
      br_if 0 (;@1;)
      i64.const 0
    end)
  (memory (;0;) 16 17)
  (global (;0;) (mut i32) (i32.const 10))
  (export "func_3" (func 1)))
