;; REM's int8 scoring kernel (WebAssembly SIMD). Source of int8-dot-wasm.ts:
;; after editing, run `npm run build:kernel` (test/vectors/kernel.test.ts checks
;; that the checked-in bytes are this file's).
;;
;; dots(rows, n, stride, q, out): out[i] = Σ_j rows[i*stride + j] * q[j] for the
;; n int8 rows stored one after another from `rows`, against the int16 query at
;; `q` (stride columns, stride a multiple of 16; rows and query zero-padded).
;; Each 16 int8 columns are widened to int16 and multiplied pairwise into int32
;; lanes (i32x4.dot_i16x8_s). The caller bounds the query so no lane or sum
;; overflows: |q| ≤ (2^31 - 1) / (128 * stride).
;; Four rows are scored per pass so each query load serves four rows. The
;; arithmetic is written out in the hot loop: Node 20's V8 does not inline
;; wasm calls (with $step called there, 10,000 × 384 took 1.05 ms, not ~0.2).
(module
  (memory (export "memory") 1)

  (func $sum (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; one row at $p against the query at $q: 16 columns' two products
  (func $step (param $acc v128) (param $r v128) (param $ql v128) (param $qh v128) (result v128)
    (i32x4.add (local.get $acc)
      (i32x4.add
        (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $r)) (local.get $ql))
        (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $r)) (local.get $qh)))))

  (func $row (param $p i32) (param $q i32) (param $stride i32) (result i32)
    (local $j i32) (local $acc v128)
    (loop $cols
      (local.set $acc (call $step (local.get $acc)
        (v128.load (i32.add (local.get $p) (local.get $j)))
        (v128.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 1))))
        (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 1))))))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br_if $cols (i32.lt_u (local.get $j) (local.get $stride))))
    (call $sum (local.get $acc)))

  (func (export "dots") (param $rows i32) (param $n i32) (param $stride i32) (param $q i32) (param $out i32)
    (local $i i32) (local $j i32) (local $p i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $ql v128) (local $qh v128) (local $r v128)
    (local.set $p (local.get $rows))
    (block $tail
      (loop $quads
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $ql (v128.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 1)))))
          (local.set $qh (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 1)))))
          (local.set $r (v128.load (i32.add (local.get $p) (local.get $j))))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $r)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $r)) (local.get $qh)))))
          (local.set $r (v128.load (i32.add (i32.add (local.get $p) (local.get $stride)) (local.get $j))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $r)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $r)) (local.get $qh)))))
          (local.set $r (v128.load (i32.add (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 1))) (local.get $j))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $r)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $r)) (local.get $qh)))))
          (local.set $r (v128.load (i32.add (i32.add (local.get $p) (i32.mul (local.get $stride) (i32.const 3))) (local.get $j))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $r)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $r)) (local.get $qh)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $stride))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $a0)))
        (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $a1)))
        (i32.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $a2)))
        (i32.store offset=12 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $a3)))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quads)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $row (local.get $p) (local.get $q) (local.get $stride)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))
)
