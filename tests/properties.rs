//! Properties of mmap_action_prepare/complete over random scenarios, and a
//! sweep of every `error_override` value (ignored by default: about a minute).

mod harness;

use mmharness::{run_in_process, ActionType, Injection, Outcome, Ret, Scenario, VmOps};
use mmharness_build::caps::Cap;
use nix::libc::{EFAULT, EINVAL, EIO, ENOMEM, EPERM};
use proptest::prelude::*;

fn errno() -> impl Strategy<Value = i32> {
    prop_oneof![Just(0), Just(0), Just(-ENOMEM), Just(-EIO), Just(-EFAULT), Just(-EPERM)]
}

/// Overrides check_mmap_action() accepts: 0 and -4095..=-1.
fn valid_override() -> impl Strategy<Value = i32> {
    prop_oneof![Just(0), -4095i32..=-1]
}

/// Scenarios whose prepare succeeds on 7.2 and later: actions with
/// parameters that pass the prepare-time checks, failures at every leaf.
fn scenario() -> impl Strategy<Value = Scenario> {
    let action = prop_oneof![
        Just(Scenario::default()),
        Just(Scenario::remap_full(0x1000)),
        Just(Scenario::io_remap_full(0x1000)),
        Just(Scenario::map_kernel_pages()),
        Just(Scenario::simple_ioremap(0x100000, 4 * 4096)),
    ];
    let vm_ops = prop_oneof![Just(VmOps::None), Just(VmOps::WithoutMapped), Just(VmOps::WithMapped)];
    (action, errno(), errno(), errno(), vm_ops, any::<bool>(), valid_override(), any::<bool>()).prop_map(
        |(base, remap, insert, mapped, vm_ops, is_compat, error_override, hide)| Scenario {
            remap: Injection::always(remap),
            insert_pages: Injection::always(insert),
            mapped: Injection::always(mapped),
            vm_ops,
            is_compat,
            error_override,
            hide_from_rmap_until_complete: hide,
            ..base
        },
    )
}

/// The error the action or mapped() produces, read from the scenario alone:
/// the remap actions fail through do_remap_pfn_range, map-kernel through
/// insert_pages; mapped() runs only after the action succeeded.
fn raw_error(s: &Scenario) -> i32 {
    let action = match s.action {
        ActionType::NOTHING => 0,
        ActionType::MAP_KERNEL_PAGES => s.insert_pages.ret,
        _ => s.remap.ret,
    };
    if action != 0 {
        return action;
    }
    if s.vm_ops == VmOps::WithMapped {
        s.mapped.ret
    } else {
        0
    }
}

/// proptest keeps failures beside a lib.rs or main.rs it looks for above
/// the source, and an integration test has none: keep none, and say nothing.
fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

fn prepared(o: &Outcome) -> bool {
    o.prepare == Some(Ret(0))
}

/// mmap_action_finish: exactly one unmap if and only if the action or
/// mapped() failed and the call is not compat.
fn one_unmap_exactly_when_a_non_compat_call_fails() {
    proptest!(config(), |(s in scenario())| {
        let o = run_in_process(&s).unwrap();
        prop_assume!(prepared(&o));
        let failed = raw_error(&s) != 0;
        prop_assert_eq!(o.unmaps().len(), usize::from(failed && !s.is_compat), "{:?}", o);
    });
}

/// mmap_action_finish: `error_override ?: err` on the non-compat error
/// path; everywhere else the raw result.
fn the_result_is_the_override_only_on_the_non_compat_error_path() {
    proptest!(config(), |(s in scenario())| {
        let o = run_in_process(&s).unwrap();
        prop_assume!(prepared(&o));
        let raw = raw_error(&s);
        let want = if raw != 0 && !s.is_compat && s.error_override != 0 { s.error_override } else { raw };
        prop_assert_eq!(o.ret(), Ret(want), "{:?}", o);
    });
}

/// check_mmap_action: -EINVAL with exactly one WARN if and only if the
/// override is outside {0} and -4095..=-1.
fn prepare_refuses_exactly_the_overrides_that_are_not_errors() {
    proptest!(config(), |(v in any::<i32>())| {
        let o = run_in_process(&Scenario { error_override: v, stage: mmharness::Stage::PrepareOnly, ..Scenario::default() }).unwrap();
        let invalid = v != 0 && !(-4095..=-1).contains(&v);
        prop_assert_eq!(o.prepare, Some(Ret(if invalid { -EINVAL } else { 0 })));
        prop_assert_eq!(o.warn_count(), u32::from(invalid));
    });
}

/// Every one of the 2^32 overrides through the real mmap_action_prepare on
/// MMAP_NOTHING, called directly. Prints the first counterexample, if any,
/// and the time taken. Ignored unless asked for: run with `--ignored --release`.
fn every_override_value_follows_the_prepare_rule() {
    use mmharness::linked::raw_scenario;
    use mmharness::sys;
    let started = std::time::Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let span = (1u64 << 32) / threads;
    let raw = raw_scenario(&Scenario::default()).unwrap();
    let first_bad = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut mm = sys::mm_struct::default();
                    let mut desc = sys::vm_area_desc::default();
                    unsafe { sys::mmh_desc_setup(&mut desc, &mut mm, std::ptr::null_mut(), &raw) };
                    let end = if t == threads - 1 { 1u64 << 32 } else { (t + 1) * span };
                    for bits in t * span..end {
                        let v = bits as u32 as i32;
                        desc.action.error_override = v;
                        let before = unsafe { sys::mmh_thread_warns() };
                        let ret = unsafe { sys::mmap_action_prepare(&mut desc) };
                        let warns = unsafe { sys::mmh_thread_warns() } - before;
                        let invalid = v != 0 && !(-4095..=-1).contains(&v);
                        if (ret, warns) != (if invalid { (-EINVAL, 1) } else { (0, 0) }) {
                            return Some((v, ret, warns));
                        }
                    }
                    None
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().unwrap()).min_by_key(|(v, _, _)| *v as u32)
    });
    println!("swept 2^32 overrides on {threads} threads in {:.1} s", started.elapsed().as_secs_f64());
    if let Some((v, ret, warns)) = first_bad {
        panic!("first counterexample: error_override = {v}: prepare returned {ret} with {warns} WARNs");
    }
}

fn main() {
    let mut trials = harness::tests![
        one_unmap_exactly_when_a_non_compat_call_fails => [Cap::IsCompat, Cap::PrepareDesc],
        the_result_is_the_override_only_on_the_non_compat_error_path => [Cap::IsCompat, Cap::PrepareDesc],
        prepare_refuses_exactly_the_overrides_that_are_not_errors => [Cap::ErrorOverride],
    ];
    // About a minute on two threads in release.
    trials.extend(
        harness::tests![every_override_value_follows_the_prepare_rule => [Cap::ErrorOverride, Cap::PrepareDesc]]
            .into_iter()
            .map(|t| t.with_ignored_flag(true)),
    );
    harness::main(trials)
}
