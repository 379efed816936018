;; A hostile mixin, written by hand: its build hook takes memory in two core
;; instances of its own besides the one that holds its code, 40 MiB each.
;; No memory is over the sandbox's 64 MiB cap; together they are. Its
;; metadata and lint hooks behave, so it installs and can be called again.
;;
;; The tests compile this text with the `wat` crate (it is not a cargo
;; crate, so `cargo xtask test-mixins` leaves it alone).
(component
  ;; Owns one memory and grows it by 640 pages (40 MiB) when asked; the
  ;; answer is memory.grow's (-1 when refused).
  (core module $Hog
    (memory 1)
    (func (export "hoard") (result i32)
      (memory.grow (i32.const 640))))
  (core instance $hog1 (instantiate $Hog))
  (core instance $hog2 (instantiate $Hog))

  ;; The mixin's code: static answers laid out for the canonical ABI in its
  ;; own memory, and a bump allocator for the inputs the host passes in.
  (core module $Main
    (import "hog1" "hoard" (func $hoard1 (result i32)))
    (import "hog2" "hoard" (func $hoard2 (result i32)))
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 0x1000))

    (data (i32.const 0x100) "hoarder")
    (data (i32.const 0x110) "0.0.1")
    (data (i32.const 0x120) "Takes memory in several core instances (host sandbox tests)")
    (data (i32.const 0x170) "porter-rs tests")
    (data (i32.const 0x180) "{}")
    (data (i32.const 0x190) "# hoarded 80 MiB in two memories")

    ;; A string (pointer, length) at $at.
    (func $string (param $at i32) (param $ptr i32) (param $len i32)
      (i32.store (local.get $at) (local.get $ptr))
      (i32.store offset=4 (local.get $at) (local.get $len)))

    (func (export "realloc")
      (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
      (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $ptr) (local.get $size)))
      (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.add
                    (i32.shr_u
                      (i32.sub (global.get $next) (i32.shl (memory.size) (i32.const 16)))
                      (i32.const 16))
                    (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $ptr))

    ;; mixin-info at 0x200: name, version, description, author (strings),
    ;; homepage and license (none: their discriminants stay 0).
    (func (export "info") (result i32)
      (call $string (i32.const 0x200) (i32.const 0x100) (i32.const 7))
      (call $string (i32.const 0x208) (i32.const 0x110) (i32.const 5))
      (call $string (i32.const 0x210) (i32.const 0x120) (i32.const 59))
      (call $string (i32.const 0x218) (i32.const 0x170) (i32.const 15))
      (i32.const 0x200))

    (func (export "schema") (result i32)
      (call $string (i32.const 0x240) (i32.const 0x180) (i32.const 2))
      (i32.const 0x240))

    ;; ok(build-output) at 0x260: one Dockerfile line (listed at 0x280), no
    ;; warnings. Reached only when both hogs got their 40 MiB.
    (func (export "build")
      (param i32 i32 i32 i32 i32 i32) (result i32)
      (if (i32.lt_s (call $hoard1) (i32.const 0)) (then unreachable))
      (if (i32.lt_s (call $hoard2) (i32.const 0)) (then unreachable))
      (call $string (i32.const 0x280) (i32.const 0x190) (i32.const 32))
      (i32.store8 (i32.const 0x260) (i32.const 0))
      (call $string (i32.const 0x264) (i32.const 0x280) (i32.const 1))
      (call $string (i32.const 0x26c) (i32.const 0) (i32.const 0))
      (i32.const 0x260))

    ;; ok(empty list) at 0x290.
    (func (export "lint") (param i32 i32 i32 i32) (result i32)
      (i32.store8 (i32.const 0x290) (i32.const 0))
      (call $string (i32.const 0x294) (i32.const 0) (i32.const 0))
      (i32.const 0x290)))
  (core instance $main (instantiate $Main
    (with "hog1" (instance $hog1))
    (with "hog2" (instance $hog2))))
  (alias core export $main "memory" (core memory $memory))
  (alias core export $main "realloc" (core func $realloc))

  ;; The types of porter:mixin@1.0.0 the hooks use (matched by structure).
  (type $mixin-info (record
    (field "name" string)
    (field "version" string)
    (field "description" string)
    (field "author" string)
    (field "homepage" (option string))
    (field "license" (option string))))
  (type $action-steps (record (field "action" string) (field "steps" (list string))))
  (type $build-input (record
    (field "config" string)
    (field "actions" (list $action-steps))
    (field "platform" string)))
  (type $build-output (record
    (field "dockerfile-lines" (list string))
    (field "warnings" (list string))))
  (type $config-problem (record (field "pointer" string) (field "message" string)))
  (type $mixin-error (variant
    (case "invalid-config" (list $config-problem))
    (case "unsupported" string)
    (case "failed" string)))
  (type $lint-input (record (field "config" string) (field "actions" (list $action-steps))))
  (type $lint-level (enum "error" "warning"))
  (type $step-location (record
    (field "action" string)
    (field "step-number" u32)
    (field "step-description" string)
    (field "pointer" string)))
  (type $lint-result (record
    (field "code" string)
    (field "level" $lint-level)
    (field "title" string)
    (field "message" string)
    (field "url" (option string))
    (field "location" $step-location)))

  (type $info-fn (func (result $mixin-info)))
  (type $schema-fn (func (result string)))
  (type $build-fn (func (param "input" $build-input)
    (result (result $build-output (error $mixin-error)))))
  (type $lint-fn (func (param "input" $lint-input)
    (result (result (list $lint-result) (error $mixin-error)))))

  (func $info (type $info-fn) (canon lift (core func $main "info") (memory $memory)))
  (func $schema (type $schema-fn) (canon lift (core func $main "schema") (memory $memory)))
  (func $build (type $build-fn)
    (canon lift (core func $main "build") (memory $memory) (realloc $realloc)))
  (func $lint (type $lint-fn)
    (canon lift (core func $main "lint") (memory $memory) (realloc $realloc)))

  ;; Each interface exports the types its functions use before them.
  (instance $metadata
    (export "mixin-info" (type $mixin-info))
    (export "info" (func $info))
    (export "schema" (func $schema)))
  (instance $build
    (export "action-steps" (type $action-steps))
    (export "build-input" (type $build-input))
    (export "build-output" (type $build-output))
    (export "config-problem" (type $config-problem))
    (export "mixin-error" (type $mixin-error))
    (export "build" (func $build)))
  (instance $lint
    (export "action-steps" (type $action-steps))
    (export "lint-input" (type $lint-input))
    (export "lint-level" (type $lint-level))
    (export "step-location" (type $step-location))
    (export "lint-result" (type $lint-result))
    (export "config-problem" (type $config-problem))
    (export "mixin-error" (type $mixin-error))
    (export "lint" (func $lint)))
  (export "porter:mixin/metadata@1.0.0" (instance $metadata))
  (export "porter:mixin/build@1.0.0" (instance $build))
  (export "porter:mixin/lint@1.0.0" (instance $lint)))
