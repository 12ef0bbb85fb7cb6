//! Conversion between the safe types and the fixed C encoding of
//! `include/scenario.h`, the one place that knows its layout.

use crate::error::RunError;
use crate::outcome::{DescAfter, Event, Obj, Outcome, Ret, Site, VmaAfter, Warn};
use crate::scenario::{ActionType, Injection, Need, Scenario, Stage, VmOps};
use mmharness_build::abi as sys;
use mmharness_build::artifact::Manifest;
use mmharness_build::extract::Extracted;

/// An injection, its site resolved to the lines of that function in this tree.
fn injection(i: &Injection, extracted: &[Extracted]) -> Result<sys::mmh_injection, RunError> {
    let mut raw = sys::mmh_injection { ret: i.ret, nth: i.nth, site_first: 0, site_last: 0, site_file: [0; 32] };
    if let Some(site) = &i.site {
        let f = extracted.iter().find(|e| &e.name == site).ok_or_else(|| RunError::UnknownSite(site.clone()))?;
        raw.site_first = f.line as u32;
        raw.site_last = f.end_line as u32;
        for (dst, src) in raw.site_file.iter_mut().zip(f.file.bytes().take(31)) {
            *dst = src as std::os::raw::c_char;
        }
    }
    Ok(raw)
}

/// The encoding of a scenario for the tree of `manifest`: the one place that
/// refuses what the tree cannot express, for every backend.
pub fn scenario(s: &Scenario, manifest: &Manifest) -> Result<sys::mmh_scenario, RunError> {
    if let Some(need) = s.unmet(&manifest.capabilities) {
        return Err(RunError::Unsupported(need));
    }
    let extracted = &manifest.extracted;
    Ok(sys::mmh_scenario {
        stage: match s.stage {
            Stage::PrepareAndComplete => sys::mmh_stage_MMH_STAGE_PREPARE_AND_COMPLETE,
            Stage::PrepareOnly => sys::mmh_stage_MMH_STAGE_PREPARE,
            Stage::CompleteOnly => sys::mmh_stage_MMH_STAGE_COMPLETE,
            Stage::DevMem => sys::mmh_stage_MMH_STAGE_DEVMEM,
            Stage::CompatVmaMmap => sys::mmh_stage_MMH_STAGE_COMPAT_VMA_MMAP,
            Stage::Nommu => sys::mmh_stage_MMH_STAGE_NOMMU,
        },
        action_type: s.action.0,
        error_override: s.error_override,
        is_compat: s.is_compat.into(),
        hide_from_rmap_until_complete: s.hide_from_rmap_until_complete.into(),
        has_file: s.has_file.into(),
        vm_ops: match s.vm_ops {
            VmOps::None => sys::mmh_vm_ops_MMH_VM_OPS_NONE,
            VmOps::WithoutMapped => sys::mmh_vm_ops_MMH_VM_OPS_WITHOUT_MAPPED,
            VmOps::WithMapped => sys::mmh_vm_ops_MMH_VM_OPS_WITH_MAPPED,
        } as u8,
        start: s.start,
        end: s.end,
        pgoff: s.pgoff,
        vm_flags: s.vm_flags,
        private_data: s.private_data,
        remap_start: s.remap_start,
        remap_pfn: s.remap_pfn,
        remap_size: s.remap_size,
        phys_start: s.phys_start,
        phys_size: s.phys_size,
        kernel_start: s.kernel_start,
        kernel_nr_pages: s.kernel_nr_pages,
        page_prot: s.page_prot,
        devmem_prot: s.devmem_prot,
        remap: injection(&s.remap, extracted)?,
        insert_pages: injection(&s.insert_pages, extracted)?,
        munmap: injection(&s.munmap, extracted)?,
        mapped: injection(&s.mapped, extracted)?,
        mapped_sets_private_data: s.mapped_sets_private_data,
        devmem_deny: s.devmem_deny,
        error_hook_clears: s.error_hook_clears.into(),
        has_success_hook: s.success_hook.is_some().into(),
        mmap_unlocked: s.mmap_unlocked.into(),
        pad: 0,
        success_hook_ret: s.success_hook.unwrap_or(0),
        mmap_prepare_ret: s.mmap_prepare_ret,
    })
}

fn c_string(bytes: &[std::os::raw::c_char]) -> String {
    let b: Vec<u8> = bytes.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&b).into_owned()
}

/// What the driver could not express, named as the Rust side names it.
fn missing(code: u8) -> Result<(), RunError> {
    let need = match u32::from(code) {
        sys::mmh_missing_MMH_MISSING_NONE => return Ok(()),
        sys::mmh_missing_MMH_MISSING_DEVMEM => Need::DEVMEM,
        sys::mmh_missing_MMH_MISSING_COMPAT_VMA_MMAP => Need::COMPAT_VMA_MMAP,
        sys::mmh_missing_MMH_MISSING_NOMMU_VARIANTS => Need::NOMMU_VARIANTS,
        sys::mmh_missing_MMH_MISSING_IS_COMPAT => Need::IS_COMPAT,
        sys::mmh_missing_MMH_MISSING_ERROR_OVERRIDE_OR_HOOK => Need::ERROR_OVERRIDE_OR_HOOK,
        sys::mmh_missing_MMH_MISSING_ERROR_HOOK => Need::ERROR_HOOK,
        sys::mmh_missing_MMH_MISSING_SUCCESS_HOOK => Need::SUCCESS_HOOK,
        sys::mmh_missing_MMH_MISSING_VM_OPS_MAPPED => Need::VM_OPS_MAPPED,
        sys::mmh_missing_MMH_MISSING_SUCCESS_CHECK => Need::SUCCESS_CHECK,
        other => return Err(RunError::UnknownMissing(other)),
    };
    Err(RunError::Unsupported(need))
}

/// The outcome the driver wrote, or why it ran nothing.
/// One recorded leaf call, its pointers named by what they are in the scenario.
fn event(e: &sys::mmh_event, objects: &sys::mmh_objects) -> Event {
    let obj = |p: u64| match p {
        0 => Obj::Null,
        p if p == objects.mm => Obj::CurrentMm,
        p if p == objects.vma => Obj::Vma,
        p if p == objects.file => Obj::File,
        p if p == objects.mapping => Obj::Mapping,
        p if p == objects.desc => Obj::Desc,
        p if p == objects.desc_page_prot => Obj::DescPageProt,
        p => Obj::Other(p),
    };
    let [a0, a1, a2, a3, a4] = e.args;
    let ret = Ret(e.ret);
    match e.kind {
        sys::mmh_event_kind_MMH_EV_REMAP => Event::Remap { vma: obj(a0), addr: a1, pfn: a2, size: a3, prot: a4, ret },
        sys::mmh_event_kind_MMH_EV_INSERT_PAGES => {
            Event::InsertPages { vma: obj(a0), addr: a1, pages: obj(a3), nr_pages: a2, ret }
        }
        sys::mmh_event_kind_MMH_EV_MUNMAP => Event::Munmap { mm: obj(a0), start: a1, len: a2, uf: obj(a3), ret },
        sys::mmh_event_kind_MMH_EV_MAPPED => Event::Mapped { start: a0, end: a1, pgoff: a2, file: obj(a3), ret },
        sys::mmh_event_kind_MMH_EV_RMAP_LOCK => Event::RmapLock { mapping: obj(a0) },
        sys::mmh_event_kind_MMH_EV_RMAP_UNLOCK => Event::RmapUnlock { mapping: obj(a0) },
        sys::mmh_event_kind_MMH_EV_MMAP_READ_TRYLOCK => Event::MmapReadTrylock { mm: obj(a0) },
        sys::mmh_event_kind_MMH_EV_PGPROT_DECRYPTED => Event::PgprotDecrypted { prot: a0 },
        sys::mmh_event_kind_MMH_EV_DEVMEM_CHECK => {
            Event::DevMemCheck { check: a0 as u32, allowed: a1 != 0, pfn: a2, size: a3 }
        }
        sys::mmh_event_kind_MMH_EV_DEVMEM_PRIVATE => {
            Event::DevMemPrivateMappingOk { desc: obj(a0), allowed: ret.0 != 0 }
        }
        sys::mmh_event_kind_MMH_EV_DEVMEM_PROT_ALLOWED => {
            Event::DevMemProtAllowed { file: obj(a0), pfn: a1, size: a2, vma_prot: obj(a3), allowed: ret.0 != 0 }
        }
        sys::mmh_event_kind_MMH_EV_DEVMEM_ACCESS_PROT => {
            Event::DevMemAccessProt { file: obj(a0), pfn: a1, size: a2, vma_prot: a3 }
        }
        sys::mmh_event_kind_MMH_EV_MMAP_PREPARE => Event::MmapPrepare { mm: obj(a0), file: obj(a1), page_prot: a2 },
        sys::mmh_event_kind_MMH_EV_SUCCESS_HOOK => Event::SuccessHook { vma: obj(a0), ret },
        sys::mmh_event_kind_MMH_EV_SUCCESS_CHECK => {
            Event::SuccessCheck { start: a0, end: a1, pgoff: a2, file: obj(a3), ret }
        }
        kind => Event::Unknown { kind },
    }
}

pub fn outcome(o: &sys::mmh_outcome) -> Result<Outcome, RunError> {
    missing(o.missing)?;
    let kept = (o.n_events as usize).min(o.events.len());
    let events = o.events[..kept].iter().map(|e| event(e, &o.objects)).collect();
    let event_sites = o.events[..kept]
        .iter()
        .map(|e| (e.site_line != 0).then(|| Site { file: c_string(&e.site_file), line: e.site_line }))
        .collect();
    let kept_warns = (o.n_warns as usize).min(o.warns.len());
    let warns = o.warns[..kept_warns]
        .iter()
        .map(|w| Warn {
            file: c_string(&w.file),
            line: w.line,
            macro_name: c_string(&w.macro_),
            condition: c_string(&w.expr),
        })
        .collect();
    Ok(Outcome {
        hook: (o.hooked != 0).then_some(Ret(o.hook_ret)),
        prepare: (o.prepared != 0).then_some(Ret(o.prepare_ret)),
        complete: (o.completed != 0).then_some(Ret(o.complete_ret)),
        events,
        event_sites,
        events_dropped: o.n_events - kept as u32,
        warns,
        warns_dropped: o.n_warns - kept_warns as u32,
        desc: DescAfter {
            action: Some(ActionType(o.desc_action_type)),
            pgoff: o.desc_pgoff,
            vm_flags: o.desc_vm_flags,
            remap_start: o.desc_remap_start,
            remap_pfn: o.desc_remap_pfn,
            remap_size: o.desc_remap_size,
            error_override: o.desc_error_override,
            has_mapped: o.desc_has_mapped != 0,
        },
        vma: VmaAfter {
            start: o.vma_start,
            end: o.vma_end,
            pgoff: o.vma_pgoff,
            vm_flags: o.vma_flags,
            private_data: o.vma_private_data,
        },
        vma_unmapped: o.vma_unmapped != 0,
        rmap_left_locked: o.rmap_left_locked != 0,
        crash: None,
    })
}

/// The bytes of a scenario, as the runner reads them.
pub(crate) fn scenario_bytes(s: &sys::mmh_scenario) -> &[u8] {
    // SAFETY: mmh_scenario is plain data laid out without implicit padding
    // (scenario.h spells out its pads), so every byte is initialised.
    unsafe {
        std::slice::from_raw_parts(
            (s as *const sys::mmh_scenario).cast::<u8>(),
            std::mem::size_of::<sys::mmh_scenario>(),
        )
    }
}

/// A fresh `mmh_outcome`, for the driver or the runner to fill in.
pub fn empty_outcome() -> sys::mmh_outcome {
    // SAFETY: mmh_outcome is plain data; all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Reads an `mmh_outcome` from the runner's bytes.
pub fn outcome_from_bytes(bytes: &[u8]) -> sys::mmh_outcome {
    assert_eq!(bytes.len(), std::mem::size_of::<sys::mmh_outcome>());
    let mut o = empty_outcome();
    // SAFETY: the sizes match and every bit pattern is a valid mmh_outcome.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (&mut o as *mut sys::mmh_outcome).cast::<u8>(), bytes.len())
    };
    o
}
