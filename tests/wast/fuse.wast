;; The compiler's fused instructions (src/engine/fuse.c) must compute what
;; the instructions they replace compute: each function is written the way
;; clang emits the pattern that fuses, with edge cases (wrapping, aliasing
;; of slots and locals, traps).
(module
  (memory 1)
  ;; d = a + b + c (add3), also through the same local three times
  (func (export "add3") (param i32 i32 i32) (result i32)
    local.get 0 local.get 1 i32.add local.get 2 i32.add)
  (func (export "add3_self") (param i32) (result i32)
    local.get 0 local.get 0 i32.add local.get 0 i32.add)
  (func (export "add3_64") (param i64 i64 i64) (result i64)
    local.get 0 local.get 1 i64.add local.get 2 i64.add)
  ;; d = a & ~b, with ~b on either side; x ^ 5 is not a negation
  (func (export "andn") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.const -1 i32.xor i32.and)
  (func (export "andn_left") (param i32 i32) (result i32)
    local.get 1 i32.const -1 i32.xor local.get 0 i32.and)
  (func (export "xor5_and") (param i32 i32) (result i32)
    local.get 1 i32.const 5 i32.xor local.get 0 i32.and)
  ;; the sigma functions of SHA-256: rotl(a, k) ^ rotl(a, k2) ^ rotl(a, k3)
  (func (export "sigma") (param i32) (result i32)
    local.get 0 i32.const 6 i32.rotl local.get 0 i32.const 11 i32.rotl i32.xor
    local.get 0 i32.const 25 i32.rotl i32.xor)
  (func (export "rotl2") (param i32 i32) (result i32)
    local.get 0 i32.const 26 i32.rotl local.get 1 i32.const 21 i32.rotl i32.xor)
  ;; an address minus a constant folds into the access
  (func (export "load_sub") (param i32) (result i32)
    local.get 0 i32.const 4 i32.sub i32.load)
  ;; store whose value is computed after its address
  (func (export "store_past") (param i32 i32) (result i32)
    local.get 0 i32.const 8 i32.add
    local.get 1 local.get 1 i32.mul
    i32.store
    local.get 0 i32.load offset=8)
  ;; the value's code writes the local the address reads: the address
  ;; must use the old value
  (func (export "store_past_tee") (param i32) (result i32)
    local.get 0 i32.const 4 i32.add
    i32.const 100 local.tee 0
    i32.store
    local.get 0)
;; base + imm + (index << 2), the value computed after it
  (func (export "store_sxi") (param i32 i32 i32) (result i32)
    local.get 0 i32.const 16 i32.add
    local.get 1 i32.const 2 i32.shl i32.add
    local.get 2 local.get 2 i32.mul
    i32.store
    local.get 0 local.get 1 i32.const 2 i32.shl i32.add i32.load offset=16)
  ;; base + imm, then the index stepped (i = i - 1) between the base and the
  ;; shift: that step moves above the base, the sum folds into the load
  (func (export "load_hoist") (param i32 i32) (result i32)
    local.get 0 i32.const 16 i32.add
    local.get 1 i32.const 1 i32.sub local.tee 1
    i32.const 2 i32.shl i32.add i32.load
    local.get 1 i32.add)
  ;; the index temporary and the value share a slot: no fold
  (func (export "store_index_slot") (param i32 i32) (result i32)
    local.get 0
    local.get 1 i32.load i32.const 2 i32.shl i32.add
    local.get 1 i32.load offset=4
    i32.store
    local.get 0 local.get 1 i32.load i32.const 2 i32.shl i32.add i32.load)
  (func (export "poke8") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "peek8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "peek") (param i32) (result i32) local.get 0 i32.load)
  ;; br_table on a loaded byte, and on a loaded word through base + index
  (func (export "switch8") (param i32) (result i32)
    block block block block
      local.get 0 i32.load8_u
      br_table 0 1 2 3
    end i32.const 10 return
    end i32.const 11 return
    end i32.const 12 return
    end i32.const 13)
  (func (export "switch32") (param i32 i32) (result i32)
    block block block
      local.get 0 local.get 1 i32.const 2 i32.shl i32.add i32.load offset=4
      br_table 0 1 2
    end i32.const 20 return
    end i32.const 21 return
    end i32.const 22)
  ;; a loop whose last step is `i = i + 3; br loop`
  (func (export "addi_loop") (param i32) (result i32)
    (local i32 i32)
    loop
      local.get 1 local.get 0 i32.ge_u
      if local.get 2 return end
      local.get 2 local.get 1 i32.add local.set 2
      local.get 1 i32.const 3 i32.add local.set 1
      br 0
    end
    unreachable)
  ;; *p = v; p += s (a strided fill), and its variants
  (func (export "fill") (param i32 i32 i32 i32) (result i32)
    ;; p n stride v: fills n bytes at p, p + stride, ...; returns the end p
    loop
      local.get 1 i32.eqz
      if local.get 0 return end
      local.get 0 local.get 3 i32.store8
      local.get 0 local.get 2 i32.add local.set 0
      local.get 1 i32.const 1 i32.sub local.set 1
      br 0
    end
    unreachable)
  (func (export "fill_self") (param i32 i32) (result i32)
    ;; *p = p; p = 4 + p, n times: stores each address at itself
    loop
      local.get 1 i32.eqz
      if local.get 0 return end
      local.get 0 local.get 0 i32.store
      i32.const 4 local.get 0 i32.add local.set 0
      local.get 1 i32.const 1 i32.sub local.set 1
      br 0
    end
    unreachable)
  (func (export "store_double") (param i32 i32) (result i32)
    ;; *p = v; p = p + p
    local.get 0 local.get 1 i32.store
    local.get 0 local.get 0 i32.add local.set 0
    local.get 0)
  ;; a loop of one bumping store and its counter's test (BUMP_LOOP): the
  ;; sieve's marking loop, `for (j = a; j <= n; j += i) p[j] = 1` with p
  ;; stepped by i alongside; returns the final p, then j from "last_j"
  (global $j (mut i32) (i32.const 0))
  (func (export "mark") (param $p i32) (param $j i32) (param $i i32) (param $n i32) (result i32)
    loop $l
      local.get $p i32.const 1 i32.store8
      local.get $p local.get $i i32.add local.set $p
      local.get $i local.get $j i32.add local.tee $j
      local.get $n i32.le_u
      br_if $l
    end
    local.get $j global.set $j
    local.get $p)
  (func (export "last_j") (result i32) global.get $j)
  ;; an immediate step, a signed test against an immediate, a 32-bit store
  (func (export "mark_down") (param $p i32) (param $j i32) (param $v i32) (result i32)
    loop $l
      local.get $p local.get $v i32.store
      local.get $p i32.const 4 i32.add local.set $p
      local.get $j i32.const -3 i32.add local.tee $j
      i32.const -5 i32.gt_s
      br_if $l
    end
    local.get $j)
  ;; the stored value is the counter: not fused, still right
  (func (export "mark_counter") (param $p i32) (param $j i32) (result i32)
    loop $l
      local.get $p local.get $j i32.store
      local.get $p i32.const 4 i32.add local.set $p
      local.get $j i32.const 1 i32.add local.tee $j
      i32.const 3 i32.lt_u
      br_if $l
    end
    local.get $p)

  ;; a loop whose first instruction is an add-immediate: back-edges do it
  ;; and jump past it (with and without an add-immediate of their own)
  (func (export "head_add") (param $n i32) (result i32)
    (local $i i32) (local $k i32) (local $acc i32)
    loop $l
      local.get $i i32.const 1 i32.add local.set $k
      local.get $k local.get $n i32.gt_u
      if local.get $acc return end
      local.get $acc local.get $k i32.add local.set $acc
      local.get $k i32.const 2 i32.and
      if
        local.get $i i32.const 2 i32.add local.set $i
        br $l
      end
      local.get $acc i32.const 1000 i32.add local.set $acc
      local.get $i i32.const 1 i32.add local.set $i
      br $l
    end
    unreachable)

  ;; f64 add/mul with an operand just loaded (F64_ADD_M, F64_MUL_M, _AI)
  (func (export "fstore") (param i32 f64) local.get 0 local.get 1 f64.store)
  (func (export "fadd_m") (param i32 f64) (result f64)
    local.get 1 local.get 0 f64.load f64.add)
  (func (export "fmul_m_ai") (param i32 f64) (result f64)
    local.get 0 i32.const 8 i32.add f64.load local.get 1 f64.mul)
  (func (export "fdot2") (param i32 i32) (result f64)
    local.get 0 f64.load local.get 1 f64.load f64.mul
    local.get 0 f64.load offset=8 local.get 1 f64.load offset=8 f64.mul f64.add)

  ;; base + imm + (x << k) kept as a value (I32_ADD_IMM_SHL): the sum
  ;; first, then the immediate; the immediate first, with the index's load
  ;; between (moved above the add); subtracted immediates; shift counts
  ;; taken mod 32; a block between the two is a branch target: no fusion
  (func (export "ais_tee") (param i32 i32) (result i32)
    (local i32)
    local.get 1 i32.const 3 i32.shl local.get 0 i32.add i32.const 544 i32.add local.tee 2
    local.get 2 i32.mul)
  (func (export "ais_imm_first") (param i32 i32) (result i32)
    (local i32)
    local.get 0 i32.const 16 i32.add
    local.get 1 i32.load i32.const 3 i32.shl i32.add local.tee 2
    local.get 2 i32.add)
  (func (export "ais_sub") (param i32 i32) (result i32)
    local.get 0 i32.const 7 i32.sub
    local.get 1 i32.const 35 i32.shl i32.add)
  (func (export "ais_sub_after") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.const 33 i32.shl i32.add i32.const 9 i32.sub)
  (func (export "ais_block") (param i32 i32) (result i32)
    local.get 0 i32.const 16 i32.add
    block (result i32) local.get 1 end
    i32.const 2 i32.shl i32.add)
  ;; the fused sum as a load's address (the _SXI form) and a store's
  (func (export "ais_load") (param i32 i32) (result i32)
    local.get 0 i32.const 2 i32.shl local.get 1 i32.add i32.const 4 i32.add i32.load)
  (func (export "ais_store") (param i32 i32 i32)
    local.get 1 i32.const 4 i32.sub
    local.get 0 i32.load i32.const 2 i32.shl i32.add
    local.get 2 i32.store)

  ;; local.tee x while reads of x are still pending below: the old x is
  ;; copied out above the code before the producer, which then writes x;
  ;; not above code that writes x, nor above code using the copy's slot
  (func (export "tee_pending") (param i32 i32) (result i32)
    local.get 0
    local.get 1 i32.const 16 i32.add
    local.get 0 i32.const 1 i32.sub local.tee 0
    i32.const 2 i32.shl i32.add
    i32.mul
    local.get 0 i32.add)
  ;; the index step between base + 16 and the shift writes the base's
  ;; local: it cannot move above the base's add
  (func (export "ais_hoist_clash") (param i32) (result i32)
    local.get 0 i32.const 16 i32.add
    local.get 0 i32.const 1 i32.sub local.tee 0
    i32.const 2 i32.shl i32.add)
  (func (export "tee_pending_twice") (param i32) (result i32)
    local.get 0
    local.get 0 i32.const 7 i32.add local.set 0
    local.get 0
    local.get 0 i32.const 3 i32.mul local.tee 0
    i32.sub i32.add
    local.get 0 i32.add)
  (func (export "tee_pending_slot") (param i32 i32) (result i32)
    (local i32)
    local.get 1 local.get 1 i32.mul i32.const 3 i32.add local.set 2
    local.get 0
    local.get 1 i32.const 1 i32.add local.tee 0
    i32.sub local.get 2 i32.add)
  (func (export "tee_pending_load") (param i32) (result i32)
    ;; the interpreter's binary operation: x = sp - 1 read twice, old x the
    ;; store's address
    (local i32)
    local.get 0 i32.const 3 i32.shl i32.const 100 i32.add local.tee 1
    local.get 1 i32.load
    i32.const 200
    local.get 0 i32.const 1 i32.sub local.tee 1
    i32.const 3 i32.shl i32.add i32.load
    i32.add i32.store
    local.get 1)

  ;; a `br` to the end of a block that the loop's back-edge follows runs a
  ;; copy of the back-edge (tail duplication); the branches around it are
  ;; laid out again: an if-else in a loop, and a small bytecode machine
  ;; (0 k: acc += k, 1: acc *= 2, 3: if acc is even skip the next byte,
  ;; else: halt) with its br_table, early return and back-edges
  (func (export "dup_if_else") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    loop $l
      local.get $i local.get $n i32.ge_u
      if local.get $acc return end
      block $b
        local.get $i i32.const 1 i32.and
        if
          local.get $acc i32.const 3 i32.add local.set $acc
          br $b
        end
        local.get $acc i32.const 100 i32.add local.set $acc
      end
      local.get $i i32.const 1 i32.add local.set $i
      br $l
    end
    unreachable)
  (func (export "dup_vm") (param $pc i32) (result i32)
    (local $acc i32)
    loop $l
      block $next
        block $halt
          block $odd
            block $dbl
              block $add
                local.get $pc i32.load8_u
                br_table $add $dbl $halt $odd $halt
              end
              local.get $acc local.get $pc i32.load8_u offset=1 i32.add local.set $acc
              local.get $pc i32.const 1 i32.add local.set $pc
              br $next
            end
            local.get $acc i32.const 1 i32.shl local.set $acc
            br $next
          end
          local.get $acc i32.const 1 i32.and
          br_if $next
          local.get $pc i32.const 2 i32.add local.set $pc
          br $l
        end
        local.get $acc return
      end
      local.get $pc i32.const 1 i32.add local.set $pc
      br $l
    end
    unreachable)

  ;; i64.extend_i32_u of an i32 just computed is the slot as it is (i32
  ;; results are kept zero-extended): a comparison, a negative difference,
  ;; a sign-extending byte load, and one set into a local
  (func (export "ext_cmp") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.lt_s i64.extend_i32_u
    i64.const 0x100000000 i64.add)
  (func (export "ext_sub") (param i32 i32) (result i64)
    local.get 0 local.get 1 i32.sub i64.extend_i32_u)
  (func (export "ext_load8_s") (param i32) (result i64)
    local.get 0 i32.load8_s i64.extend_i32_u)
  (func (export "ext_set") (param i32) (result i64)
    (local i64)
    local.get 0 i32.const -1 i32.xor i64.extend_i32_u local.set 1
    local.get 1 local.get 1 i64.add)

  ;; i64 OP with an operand just loaded by i64.load (I64_*_M): each address
  ;; form, the loaded value on either side (subtraction fuses only on the
  ;; right), wrapping, and a fault at the load
  (func (export "i64store") (param i32 i64) local.get 0 local.get 1 i64.store)
  (func (export "i64add_m") (param i32 i64) (result i64)
    local.get 1 local.get 0 i64.load i64.add)
  (func (export "i64add_m_left") (param i32 i64) (result i64)
    local.get 0 i64.load local.get 1 i64.add)
  (func (export "i64sub_m") (param i32 i64) (result i64)
    local.get 1 local.get 0 i64.load offset=8 i64.sub)
  (func (export "i64sub_m_left") (param i32 i64) (result i64)
    local.get 0 i64.load local.get 1 i64.sub)
  (func (export "i64mul_m_ai") (param i32 i64) (result i64)
    local.get 1 local.get 0 i32.const 8 i32.add i64.load i64.mul)
  (func (export "i64xor_m_sx") (param i32 i32 i64) (result i64)
    local.get 2 local.get 0 local.get 1 i32.const 3 i32.shl i32.add i64.load i64.xor)
  (func (export "i64and_m_sxi") (param i32 i32 i64) (result i64)
    local.get 2
    local.get 0 i32.const 8 i32.add local.get 1 i32.const 3 i32.shl i32.add i64.load
    i64.and)
  (func (export "i64or_m") (param i32 i64) (result i64)
    local.get 1 local.get 0 i64.load i64.or)

  ;; a counter stepped by subtracting an immediate, then the back-edge test
  ;; (ADDBR with the immediate negated): signed, and unsigned with a
  ;; negative immediate
  (func (export "sub_loop") (param $n i32) (result i32)
    (local $k i32)
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $n i32.const 2 i32.sub local.tee $n
      i32.const 1 i32.gt_s
      br_if $l
    end
    local.get $k)
  (func (export "sub_neg_loop") (param $n i32) (result i32)
    (local $k i32)
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $n i32.const -5 i32.sub local.tee $n
      i32.const 20 i32.lt_u
      br_if $l
    end
    local.get $k)

  ;; the counter as the comparison's right operand (n != i, n > i): the
  ;; back-edge test mirrored
  (func (export "cnt_right_ne") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    loop $l
      local.get $s local.get $i i32.add local.set $s
      local.get $n
      local.get $i i32.const 1 i32.add local.tee $i
      i32.ne
      br_if $l
    end
    local.get $s)
  (func (export "cnt_right_gt_s") (param $n i32) (result i32)
    (local $i i32) (local $k i32)
    local.get $n i32.const 5 i32.sub local.set $i
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $n
      local.get $i i32.const 1 i32.add local.tee $i
      i32.gt_s
      br_if $l
    end
    local.get $k)
  (func (export "cnt_right_lt_u") (param $n i32) (param $i i32) (result i32)
    (local $k i32)
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $n
      local.get $i i32.const 1 i32.sub local.tee $i
      i32.lt_u
      br_if $l
    end
    local.get $k)

  ;; the same for i64 counters: a step beyond 32 bits, a subtracted
  ;; immediate (-2^31 cannot be negated into an immediate), the counter on
  ;; the right
  (func (export "cnt64_ne") (param $n i64) (result i32)
    (local $i i64) (local $k i32)
    i64.const 0x100000000 local.set $i
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $i i64.const 0x7fffffff i64.add local.tee $i
      local.get $n i64.ne
      br_if $l
    end
    local.get $k)
  (func (export "cnt64_sub_min") (param $i i64) (result i32)
    (local $k i32)
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $i i64.const -0x80000000 i64.sub local.tee $i
      i64.const 0x100000000 i64.lt_s
      br_if $l
    end
    local.get $k)
  (func (export "cnt64_sub_right") (param $n i64) (param $i i64) (result i32)
    (local $k i32)
    loop $l
      local.get $k i32.const 1 i32.add local.set $k
      local.get $n
      local.get $i i64.const 3 i64.sub local.tee $i
      i64.lt_u
      br_if $l
    end
    local.get $k)

  ;; a store of a value just loaded is one COPY: 8 and 4 bytes as they are
  ;; (float NaN payloads too), 4 sign- or zero-extended to 8, 4 of an i64;
  ;; addresses of every form; a fault at the load stores nothing
  (func (export "copy64") (param i32 i32) local.get 1 local.get 0 i64.load i64.store)
  (func (export "copyf64_sxi") (param i32 i32 i32)
    local.get 1 i32.const 8 i32.add local.get 2 i32.const 3 i32.shl i32.add
    local.get 0 i32.const 16 i32.add local.get 2 i32.const 3 i32.shl i32.add f64.load
    f64.store)
  (func (export "copy32_ai_sx") (param i32 i32 i32)
    local.get 1 local.get 2 i32.const 2 i32.shl i32.add
    local.get 0 i32.const 4 i32.add i32.load
    i32.store offset=4)
  (func (export "copyf32_aa") (param i32 i32 i32)
    local.get 1 local.get 2 i32.add local.get 0 local.get 2 i32.add f32.load f32.store)
  (func (export "copy_s32") (param i32 i32) local.get 1 local.get 0 i64.load32_s i64.store)
  (func (export "copy_u32") (param i32 i32) local.get 1 local.get 0 i64.load32_u i64.store)
  (func (export "copy_u32_32") (param i32 i32) local.get 1 local.get 0 i64.load32_u i64.store32)
  (func (export "peek64") (param i32) (result i64) local.get 0 i64.load)

  ;; with one pending read, the instruction that last wrote the local
  ;; writes the read's slot instead and the code after it reads that slot:
  ;; an immediate equal to the local's index is not a read; the writer
  ;; reads the local itself; a fused instruction between keeps the copy
  (func (export "tee_rename") (param i32) (result i32)
    (local i32 i32)
    local.get 0 i32.const 2 i32.add local.set 2
    local.get 2
    local.get 2 i32.const 2 i32.add
    local.get 2 i32.const 3 i32.mul local.tee 2
    i32.add i32.add
    local.get 2 i32.add)
  (func (export "tee_rename_self") (param i32) (result i32)
    (local i32)
    local.get 0 local.set 1
    local.get 1 i32.const 1 i32.add local.set 1
    local.get 1
    local.get 1 i32.load
    local.get 1 i32.const 4 i32.sub local.tee 1
    i32.add i32.sub
    local.get 1 i32.add)
  (func (export "tee_rename_fused") (param i32 i32) (result i32)
    (local i32)
    local.get 0 i32.const 1 i32.add local.set 2
    local.get 2
    local.get 2 i32.const 4 i32.shl local.get 1 i32.add
    local.get 1 local.get 2 i32.sub local.tee 2
    i32.add i32.sub
    local.get 2 i32.add)

  ;; the last few instructions all before the producer and none writing the
  ;; local: the copy goes above all of them
  (func (export "tee_long_chain") (param i32) (result i32)
    local.get 0
    local.get 0 i32.const 1 i32.add i32.const 2 i32.mul i32.const 3 i32.xor
    i32.const 4 i32.or i32.const 5 i32.sub i32.const 7 i32.and local.tee 0
    i32.sub local.get 0 i32.mul)

)
(assert_return (invoke "add3" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_return (invoke "add3" (i32.const 0x7fffffff) (i32.const 1) (i32.const 0x7fffffff)) (i32.const -1))
(assert_return (invoke "add3_self" (i32.const 0x55555556)) (i32.const 2))
(assert_return (invoke "add3_64" (i64.const -1) (i64.const 2) (i64.const 0x7fffffffffffffff)) (i64.const 0x8000000000000000))
(assert_return (invoke "andn" (i32.const 0xff) (i32.const 0x0f)) (i32.const 0xf0))
(assert_return (invoke "andn_left" (i32.const 0xff) (i32.const 0x0f)) (i32.const 0xf0))
(assert_return (invoke "xor5_and" (i32.const 0xff) (i32.const 0x0f)) (i32.const 0x0a))
(assert_return (invoke "sigma" (i32.const 305419896)) (i32.const -545114567))
(assert_return (invoke "rotl2" (i32.const 305419896) (i32.const -1698898192)) (i32.const 1046185666))
(invoke "poke" (i32.const 100) (i32.const 77))
(assert_return (invoke "load_sub" (i32.const 104)) (i32.const 77))
(assert_trap (invoke "load_sub" (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "store_past" (i32.const 200) (i32.const 12)) (i32.const 144))
(assert_return (invoke "store_past_tee" (i32.const 300)) (i32.const 100))
(assert_return (invoke "peek" (i32.const 304)) (i32.const 100))
(assert_return (invoke "peek" (i32.const 104)) (i32.const 0))
;; the store goes to 1000 + 16 + 12
(assert_return (invoke "store_sxi" (i32.const 1000) (i32.const 3) (i32.const 9)) (i32.const 81))
(assert_return (invoke "peek" (i32.const 1028)) (i32.const 81))
;; reads 1000 + 16 + 2 * 4 = 1024 (0) and 1028 (81), plus the new index
(assert_return (invoke "load_hoist" (i32.const 1000) (i32.const 3)) (i32.const 2))
(assert_return (invoke "load_hoist" (i32.const 1000) (i32.const 4)) (i32.const 84))
;; index 3 at 400, value 99 at 404 (the index's temporary is the value's)
(invoke "poke" (i32.const 400) (i32.const 3))
(invoke "poke" (i32.const 404) (i32.const 99))
(assert_return (invoke "store_index_slot" (i32.const 2000) (i32.const 400)) (i32.const 99))
(assert_return (invoke "peek" (i32.const 2012)) (i32.const 99))
(invoke "poke8" (i32.const 500) (i32.const 0))
(invoke "poke8" (i32.const 501) (i32.const 2))
(invoke "poke8" (i32.const 502) (i32.const 3))
(invoke "poke8" (i32.const 503) (i32.const 200))
(assert_return (invoke "switch8" (i32.const 500)) (i32.const 10))
(assert_return (invoke "switch8" (i32.const 501)) (i32.const 12))
(assert_return (invoke "switch8" (i32.const 502)) (i32.const 13))
(assert_return (invoke "switch8" (i32.const 503)) (i32.const 13))
(assert_trap (invoke "switch8" (i32.const 65536)) "out of bounds memory access")
(invoke "poke" (i32.const 604) (i32.const 1))
(invoke "poke" (i32.const 608) (i32.const -1))
(assert_return (invoke "switch32" (i32.const 600) (i32.const 0)) (i32.const 21))
(assert_return (invoke "switch32" (i32.const 600) (i32.const 1)) (i32.const 22))
(assert_return (invoke "switch32" (i32.const 600) (i32.const 2)) (i32.const 20))
(assert_trap (invoke "switch32" (i32.const 65532) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "addi_loop" (i32.const 10)) (i32.const 18))
(assert_return (invoke "addi_loop" (i32.const 0)) (i32.const 0))
(assert_return (invoke "fill" (i32.const 3000) (i32.const 4) (i32.const 3) (i32.const 7)) (i32.const 3012))
(assert_return (invoke "peek8" (i32.const 3000)) (i32.const 7))
(assert_return (invoke "peek8" (i32.const 3001)) (i32.const 0))
(assert_return (invoke "peek8" (i32.const 3009)) (i32.const 7))
(assert_return (invoke "peek8" (i32.const 3012)) (i32.const 0))
(assert_return (invoke "fill" (i32.const 3100) (i32.const 2) (i32.const -1) (i32.const 5)) (i32.const 3098))
(assert_return (invoke "peek8" (i32.const 3099)) (i32.const 5))
(assert_trap (invoke "fill" (i32.const 65534) (i32.const 3) (i32.const 1) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "peek8" (i32.const 65535)) (i32.const 1))
(assert_return (invoke "fill_self" (i32.const 4000) (i32.const 3)) (i32.const 4012))
(assert_return (invoke "peek" (i32.const 4008)) (i32.const 4008))
(assert_return (invoke "store_double" (i32.const 5000) (i32.const 9)) (i32.const 10000))
(assert_return (invoke "peek" (i32.const 5000)) (i32.const 9))
;; a do-while: marks 6010, 6013, ..., 6031 while j runs 5, 8, ..., 23,
;; then 26 > 24 ends it
(assert_return (invoke "mark" (i32.const 6010) (i32.const 2) (i32.const 3) (i32.const 24)) (i32.const 6034))
(assert_return (invoke "last_j") (i32.const 26))
(assert_return (invoke "peek8" (i32.const 6010)) (i32.const 1))
(assert_return (invoke "peek8" (i32.const 6011)) (i32.const 0))
(assert_return (invoke "peek8" (i32.const 6031)) (i32.const 1))
(assert_return (invoke "peek8" (i32.const 6034)) (i32.const 0))
;; the test is unsigned: j = 0x7ffffffc, 0x80000000, 0x80000004 are all
;; <= 0x80000004 (a signed test would stop after one store)
(assert_return (invoke "mark" (i32.const 6100) (i32.const 0x7ffffff8) (i32.const 4) (i32.const 0x80000004)) (i32.const 6116))
(assert_return (invoke "last_j") (i32.const -2147483640))
(assert_return (invoke "peek8" (i32.const 6112)) (i32.const 1))
(assert_return (invoke "peek8" (i32.const 6116)) (i32.const 0))
;; stores 7 at 6200, 6204, 6208 while j runs 1, -2, then -5 ends it
(assert_return (invoke "mark_down" (i32.const 6200) (i32.const 4) (i32.const 7)) (i32.const -5))
(assert_return (invoke "peek" (i32.const 6200)) (i32.const 7))
(assert_return (invoke "peek" (i32.const 6208)) (i32.const 7))
(assert_return (invoke "peek" (i32.const 6212)) (i32.const 0))
(assert_return (invoke "mark_counter" (i32.const 6300) (i32.const 0)) (i32.const 6312))
(assert_return (invoke "peek" (i32.const 6308)) (i32.const 2))
;; the store faults half way: the bytes before it are written
(assert_trap (invoke "mark" (i32.const 65530) (i32.const 0) (i32.const 2) (i32.const 100)) "out of bounds memory access")
(assert_return (invoke "peek8" (i32.const 65534)) (i32.const 1))
;; k = i + 1; k & 2 steps i by 2, otherwise by 1 and adds 1000: for n = 6,
;; k = 1 (acc 1001), 2 (1003), 4 (2007), 5 (3012), 6 (3018), then 8 > 6
(assert_return (invoke "head_add" (i32.const 6)) (i32.const 3018))
(assert_return (invoke "head_add" (i32.const 0)) (i32.const 0))
;; 7000: 1.5, 7008: -2.25; 7100: 4, 7108: 0.5
(invoke "fstore" (i32.const 7000) (f64.const 1.5))
(invoke "fstore" (i32.const 7008) (f64.const -2.25))
(invoke "fstore" (i32.const 7100) (f64.const 4))
(invoke "fstore" (i32.const 7108) (f64.const 0.5))
(assert_return (invoke "fadd_m" (i32.const 7000) (f64.const 0.25)) (f64.const 1.75))
(assert_return (invoke "fmul_m_ai" (i32.const 7000) (f64.const 2)) (f64.const -4.5))
(assert_return (invoke "fdot2" (i32.const 7000) (i32.const 7100)) (f64.const 4.875))
(assert_trap (invoke "fadd_m" (i32.const 65530) (f64.const 1)) "out of bounds memory access")
(assert_trap (invoke "fmul_m_ai" (i32.const 65528) (f64.const 1)) "out of bounds memory access")
;; 8 * 3 + 100 + 544 = 668, squared
(assert_return (invoke "ais_tee" (i32.const 100) (i32.const 3)) (i32.const 446224))
;; wraps: 0xfffffff0 + 8 * 2 + 544 = 544
(assert_return (invoke "ais_tee" (i32.const 0xfffffff0) (i32.const 2)) (i32.const 295936))
;; 8000 holds 5: 300 + 16 + 40, twice
(invoke "poke" (i32.const 8000) (i32.const 5))
(assert_return (invoke "ais_imm_first" (i32.const 300) (i32.const 8000)) (i32.const 712))
(assert_trap (invoke "ais_imm_first" (i32.const 300) (i32.const 65534)) "out of bounds memory access")
;; shifts by 35 and 33 are by 3 and 1
(assert_return (invoke "ais_sub" (i32.const 100) (i32.const 2)) (i32.const 109))
(assert_return (invoke "ais_sub" (i32.const 3) (i32.const 0)) (i32.const -4))
(assert_return (invoke "ais_sub_after" (i32.const 100) (i32.const 2)) (i32.const 95))
(assert_return (invoke "ais_sub_after" (i32.const 0) (i32.const 0x80000000)) (i32.const -9))
(assert_return (invoke "ais_block" (i32.const 100) (i32.const 5)) (i32.const 136))
;; 8004 = 7980 + 4 * 5 + 4; 8000 - 4 + 4 * 5 = 8016 gets 42
(invoke "poke" (i32.const 8004) (i32.const 77))
(assert_return (invoke "ais_load" (i32.const 5) (i32.const 7980)) (i32.const 77))
(assert_trap (invoke "ais_load" (i32.const 0x3fffffff) (i32.const 0x10000)) "out of bounds memory access")
(invoke "ais_store" (i32.const 8000) (i32.const 8000) (i32.const 42))
(assert_return (invoke "peek" (i32.const 8016)) (i32.const 42))
(assert_trap (invoke "ais_store" (i32.const 65533) (i32.const 8000) (i32.const 42)) "out of bounds memory access")
;; 5 * (116 + 4 * 4) + 4
(assert_return (invoke "tee_pending" (i32.const 5) (i32.const 100)) (i32.const 664))
(assert_return (invoke "tee_pending" (i32.const 0) (i32.const 100)) (i32.const -1))
;; 1 + (8 - 24) + 24
(assert_return (invoke "tee_pending_twice" (i32.const 1)) (i32.const 9))
;; 10 - 4 + (3 * 3 + 3)
(assert_return (invoke "tee_pending_slot" (i32.const 10) (i32.const 3)) (i32.const 18))
;; sp = 3: [124] = [124] + [216] = 5 + 6, returns 2
(invoke "poke" (i32.const 124) (i32.const 5))
(invoke "poke" (i32.const 216) (i32.const 6))
(assert_return (invoke "tee_pending_load" (i32.const 3)) (i32.const 2))
(assert_return (invoke "peek" (i32.const 124)) (i32.const 11))
(assert_trap (invoke "tee_pending_load" (i32.const 0x2000)) "out of bounds memory access")
;; (10 + 16) + (9 << 2)
(assert_return (invoke "ais_hoist_clash" (i32.const 10)) (i32.const 62))
;; i odd adds 3, even adds 100
(assert_return (invoke "dup_if_else" (i32.const 5)) (i32.const 306))
(assert_return (invoke "dup_if_else" (i32.const 0)) (i32.const 0))
;; 9000: add 5, dbl (10), add 7 (17), odd: goes on, add 1 (18), even: skips
;; the 7 at 9009, dbl (36), dbl (72), halt
(invoke "poke8" (i32.const 9000) (i32.const 0))
(invoke "poke8" (i32.const 9001) (i32.const 5))
(invoke "poke8" (i32.const 9002) (i32.const 1))
(invoke "poke8" (i32.const 9003) (i32.const 0))
(invoke "poke8" (i32.const 9004) (i32.const 7))
(invoke "poke8" (i32.const 9005) (i32.const 3))
(invoke "poke8" (i32.const 9006) (i32.const 0))
(invoke "poke8" (i32.const 9007) (i32.const 1))
(invoke "poke8" (i32.const 9008) (i32.const 3))
(invoke "poke8" (i32.const 9009) (i32.const 7))
(invoke "poke8" (i32.const 9010) (i32.const 1))
(invoke "poke8" (i32.const 9011) (i32.const 1))
(invoke "poke8" (i32.const 9012) (i32.const 9))
(assert_return (invoke "dup_vm" (i32.const 9000)) (i32.const 72))
(assert_trap (invoke "dup_vm" (i32.const 65535)) "out of bounds memory access")
(assert_return (invoke "ext_cmp" (i64.const -5) (i64.const 3)) (i64.const 0x100000001))
(assert_return (invoke "ext_cmp" (i64.const 5) (i64.const 3)) (i64.const 0x100000000))
(assert_return (invoke "ext_sub" (i32.const 1) (i32.const 2)) (i64.const 0xffffffff))
(invoke "poke8" (i32.const 9100) (i32.const 0x80))
(assert_return (invoke "ext_load8_s" (i32.const 9100)) (i64.const 0xffffff80))
(assert_return (invoke "ext_set" (i32.const 0)) (i64.const 0x1fffffffe))
;; 9200: 0x7fffffffffffffff, 9208: 5, 9216: 0xff00ff00ff00ff00
(invoke "i64store" (i32.const 9200) (i64.const 0x7fffffffffffffff))
(invoke "i64store" (i32.const 9208) (i64.const 5))
(invoke "i64store" (i32.const 9216) (i64.const 0xff00ff00ff00ff00))
(assert_return (invoke "i64add_m" (i32.const 9200) (i64.const 1)) (i64.const 0x8000000000000000))
(assert_return (invoke "i64add_m_left" (i32.const 9208) (i64.const -7)) (i64.const -2))
(assert_return (invoke "i64sub_m" (i32.const 9200) (i64.const 2)) (i64.const -3))
(assert_return (invoke "i64sub_m_left" (i32.const 9208) (i64.const 2)) (i64.const 3))
(assert_return (invoke "i64mul_m_ai" (i32.const 9200) (i64.const -3)) (i64.const -15))
(assert_return (invoke "i64mul_m_ai" (i32.const 9192) (i64.const 2)) (i64.const -2))
(assert_return (invoke "i64xor_m_sx" (i32.const 9200) (i32.const 2) (i64.const -1)) (i64.const 0x00ff00ff00ff00ff))
(assert_return (invoke "i64and_m_sxi" (i32.const 9184) (i32.const 3) (i64.const 0xffff)) (i64.const 0xff00))
(assert_return (invoke "i64or_m" (i32.const 9208) (i64.const 0x10)) (i64.const 0x15))
(assert_trap (invoke "i64add_m" (i32.const 65529) (i64.const 1)) "out of bounds memory access")
(assert_trap (invoke "i64and_m_sxi" (i32.const 65528) (i32.const 0) (i64.const 1)) "out of bounds memory access")
(assert_trap (invoke "i64xor_m_sx" (i32.const 65528) (i32.const 1) (i64.const 1)) "out of bounds memory access")
;; 9216 + (0x20000000 << 3) wraps to 9216
(assert_return (invoke "i64xor_m_sx" (i32.const 9216) (i32.const 0x20000000) (i64.const 1)) (i64.const 0xff00ff00ff00ff01))
;; 7: 5, 3, 1; 1: -1; 0x80000002: INT_MIN (signed: not above 1); 0x80000003:
;; INT_MIN + 1, not above 1 either
(assert_return (invoke "sub_loop" (i32.const 7)) (i32.const 3))
(assert_return (invoke "sub_loop" (i32.const 1)) (i32.const 1))
(assert_return (invoke "sub_loop" (i32.const 0x80000002)) (i32.const 1))
(assert_return (invoke "sub_loop" (i32.const 0x80000003)) (i32.const 1))
;; 3: 8, 13, 18, 23; -6: -1 (0xffffffff), not below 20
(assert_return (invoke "sub_neg_loop" (i32.const 3)) (i32.const 4))
(assert_return (invoke "sub_neg_loop" (i32.const -6)) (i32.const 1))
(assert_return (invoke "cnt_right_ne" (i32.const 4)) (i32.const 6))
;; i runs n - 4 .. n; from INT_MIN + 2, n - 5 wraps to a large i, above n
(assert_return (invoke "cnt_right_gt_s" (i32.const 100)) (i32.const 5))
(assert_return (invoke "cnt_right_gt_s" (i32.const 0x80000002)) (i32.const 1))
;; i runs 9 .. 3; unsigned, 0x80000000 is above 0x7fffffff
(assert_return (invoke "cnt_right_lt_u" (i32.const 3) (i32.const 10)) (i32.const 7))
(assert_return (invoke "cnt_right_lt_u" (i32.const 0x7fffffff) (i32.const 0x80000001)) (i32.const 2))
;; from 2^32 in steps of 0x7fffffff: 3 steps reach 2^32 + 0x17ffffffd
(assert_return (invoke "cnt64_ne" (i64.const 0x27ffffffd)) (i32.const 3))
;; i - (-2^31) = i + 2^31: from -2^32 to -2^31, 0, 2^31, 2^32
(assert_return (invoke "cnt64_sub_min" (i64.const -0x100000000)) (i32.const 4))
;; 7, 4 (4 < 4 fails); unsigned, from 1: -2, -5, ..., -17 is the first
;; below -16
(assert_return (invoke "cnt64_sub_right" (i64.const 4) (i64.const 10)) (i32.const 2))
(assert_return (invoke "cnt64_sub_right" (i64.const -16) (i64.const 1)) (i32.const 6))
(invoke "i64store" (i32.const 9300) (i64.const 0x8877665544332211))
(invoke "copy64" (i32.const 9300) (i32.const 9310))
(assert_return (invoke "peek64" (i32.const 9310)) (i64.const 0x8877665544332211))
;; overlapping: 9304..9311 (55 66 77 88 0 0 11 22) to 9306..9313
(invoke "copy64" (i32.const 9304) (i32.const 9306))
(assert_return (invoke "peek64" (i32.const 9306)) (i64.const 0x2211000088776655))
;; a signalling NaN's bits: 9400 + 16 + 8 to 9500 + 8 + 8
(invoke "i64store" (i32.const 9424) (i64.const 0x7ff0000000000001))
(invoke "copyf64_sxi" (i32.const 9400) (i32.const 9500) (i32.const 1))
(assert_return (invoke "peek64" (i32.const 9516)) (i64.const 0x7ff0000000000001))
;; 9604 to 9700 + 8 + 4
(invoke "poke" (i32.const 9604) (i32.const 0x7fa00001))
(invoke "copy32_ai_sx" (i32.const 9600) (i32.const 9700) (i32.const 2))
(assert_return (invoke "peek" (i32.const 9712)) (i32.const 0x7fa00001))
(invoke "copyf32_aa" (i32.const 9604) (i32.const 9800) (i32.const 0))
(assert_return (invoke "peek" (i32.const 9800)) (i32.const 0x7fa00001))
(invoke "poke" (i32.const 9900) (i32.const -2))
(invoke "copy_s32" (i32.const 9900) (i32.const 9910))
(assert_return (invoke "peek64" (i32.const 9910)) (i64.const -2))
(invoke "copy_u32" (i32.const 9900) (i32.const 9920))
(assert_return (invoke "peek64" (i32.const 9920)) (i64.const 0xfffffffe))
(invoke "i64store" (i32.const 9930) (i64.const -1))
(invoke "copy_u32_32" (i32.const 9900) (i32.const 9930))
(assert_return (invoke "peek64" (i32.const 9930)) (i64.const -2))
(invoke "i64store" (i32.const 9940) (i64.const 7))
(assert_trap (invoke "copy64" (i32.const 65530) (i32.const 9940)) "out of bounds memory access")
(assert_return (invoke "peek64" (i32.const 9940)) (i64.const 7))
(assert_trap (invoke "copy64" (i32.const 9300) (i32.const 65530)) "out of bounds memory access")
(assert_trap (invoke "copy_s32" (i32.const 9300) (i32.const 65529)) "out of bounds memory access")
(assert_return (invoke "peek8" (i32.const 65535)) (i32.const 1))
;; l2 = 7: 7 + 9 + 21, + 21
(assert_return (invoke "tee_rename" (i32.const 5)) (i32.const 58))
;; l1 = 10000 holds 7: 10000 - (7 + 9996) + 9996
(invoke "poke" (i32.const 10000) (i32.const 7))
(assert_return (invoke "tee_rename_self" (i32.const 9999)) (i32.const 9993))
(assert_trap (invoke "tee_rename_self" (i32.const 65533)) "out of bounds memory access")
;; l2 = 4: 4 - ((64 + 10) + 6) + 6
(assert_return (invoke "tee_rename_fused" (i32.const 3) (i32.const 10)) (i32.const -70))
;; 11: ((((12 * 2) ^ 3) | 4) - 5) & 7 = 2, (11 - 2) * 2
(assert_return (invoke "tee_long_chain" (i32.const 11)) (i32.const 18))
