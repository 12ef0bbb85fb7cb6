//! Mutants proved equivalent: no input the kernel can give the code tells
//! them from the original, so no scenario can catch them. Each is named by
//! what `mmharness mutants` prints (file, function, operator, description:
//! the code itself, not its line) and says why. They are still built and
//! run; one the catalogue catches is reported as a wrong entry here.

use mmharness_build::mutate::Mutant;

pub struct Equivalent {
    pub file: &'static str,
    pub function: &'static str,
    pub operator: &'static str,
    pub description: &'static str,
    /// When the description alone is not unique in the function: the
    /// source line just before the mutant's, trimmed.
    pub after: Option<&'static str>,
    pub reason: &'static str,
}

const WRAP: &str = "if (pfn + pages < pfn)";
const PFN_WRAP: &str = "pfn + pages cannot wrap on CONFIG_64BIT: pfn = start_phys >> PAGE_SHIFT < 2^52, and pages <= 2^52 since size + (start_phys & ~PAGE_MASK) does not wrap once start_phys + size has not";

pub const EQUIVALENT: &[Equivalent] = &[
    Equivalent {
        file: "mm/util.c",
        function: "__compat_vma_mmap",
        operator: "arg-off-by-one",
        description: "`mmap_action_complete(vma, &desc->action, /*is_compat=*/true)`: true -> (true) + 1",
        after: None,
        reason: "is_compat is a bool parameter: (true) + 1 converts to true",
    },
    Equivalent {
        file: "mm/util.c",
        function: "compat_set_desc_from_vma",
        operator: "drop-statement",
        description: "drop `desc->action.type = MMAP_NOTHING;`",
        after: None,
        reason: "memset(desc, 0, sizeof(*desc)) just before has set it, and MMAP_NOTHING is 0, the first enumerator of enum mmap_action_type",
    },
    Equivalent {
        file: "include/linux/mm.h",
        function: "mmap_action_remap",
        operator: "drop-statement",
        description: "drop `WARN_ON_ONCE(start + size > desc->end);`",
        after: None,
        reason: "its one caller here, mmap_action_remap_full (for /dev/mem and, through mmap_action_ioremap_full, simple_ioremap_prepare), passes start = desc->start and size = vma_desc_size(desc) = desc->end - desc->start: start + size is desc->end",
    },
    Equivalent {
        file: "include/linux/mm.h",
        function: "mmap_action_remap",
        operator: "drop-statement",
        description: "drop `WARN_ON_ONCE(start < desc->start || start >= desc->end);`",
        after: None,
        reason: "its one caller here, mmap_action_remap_full, passes start = desc->start, so the condition is desc->start >= desc->end: an empty VMA, which mmap never makes (do_mmap refuses len 0 with -EINVAL before any .mmap_prepare)",
    },
    Equivalent {
        file: "include/linux/mm.h",
        function: "mmap_action_ioremap",
        operator: "drop-statement",
        description: "drop `desc->action.type = MMAP_IO_REMAP_PFN;`",
        after: None,
        reason: "its one caller here, simple_ioremap_prepare, hands the descriptor straight to io_remap_pfn_range_prepare, which reads no type; for the whole-VMA range remap_pfn_range_prepare cannot fail (range_in_vma_desc holds, get_remap_pgoff accepts a whole CoW VMA), so the type always ends MMAP_REMAP_PFN",
    },
    Equivalent {
        file: "mm/internal.h",
        function: "io_remap_pfn_range_prepare",
        operator: "arg-off-by-one",
        description: "`io_remap_pfn_range_pfn(orig_pfn, size)`: size -> (size) + PAGE_SIZE",
        after: None,
        reason: "x86 defines no io_remap_pfn_range_pfn: include/linux/mm.h's fallback returns pfn and ignores size",
    },
    Equivalent {
        file: "mm/internal.h",
        function: "io_remap_pfn_range_prepare",
        operator: "replace-arg",
        description: "`io_remap_pfn_range_pfn(orig_pfn, size)`: size -> orig_pfn (unsigned long)",
        after: None,
        reason: "x86 defines no io_remap_pfn_range_pfn: include/linux/mm.h's fallback returns pfn and ignores size",
    },
    Equivalent {
        file: "mm/internal.h",
        function: "io_remap_pfn_range_prepare",
        operator: "drop-statement",
        description: "drop `action->remap.start_pfn = pfn;`",
        after: None,
        reason: "pfn = io_remap_pfn_range_pfn(orig_pfn, size) is orig_pfn, read from action->remap.start_pfn: x86 has no override of the fallback that returns pfn",
    },
    Equivalent {
        file: "mm/internal.h",
        function: "maybe_rmap_unlock_action",
        operator: "drop-statement",
        description: "drop `action->hide_from_rmap_until_complete = false;`",
        after: None,
        reason: "nothing reads the flag after mmap_action_finish's one call of maybe_rmap_unlock_action: mm/vma.c reads it only before complete (vma_link_file), and compat_vma_mmap clears it before",
    },
    Equivalent {
        file: "mm/memory.c",
        function: "__simple_ioremap_prep",
        operator: "return-0",
        description: "return -EINVAL; -> return 0;",
        after: Some(WRAP),
        reason: PFN_WRAP,
    },
    Equivalent {
        file: "mm/memory.c",
        function: "__simple_ioremap_prep",
        operator: "swap-errno",
        description: "`return -EINVAL;`: -EINVAL -> -ENOMEM",
        after: Some(WRAP),
        reason: PFN_WRAP,
    },
];

/// Why `m` is equivalent, if it is listed.
pub fn reason(m: &Mutant) -> Option<&'static str> {
    let before = m.line.checked_sub(2).and_then(|i| m.text.lines().nth(i)).map(str::trim);
    EQUIVALENT
        .iter()
        .find(|e| {
            (e.file, e.function, e.operator, e.description)
                == (m.file.as_str(), m.function.as_str(), m.operator.name(), m.description.as_str())
                && e.after.is_none_or(|a| before == Some(a))
        })
        .map(|e| e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmharness_build::mutate::Operator;

    fn mutant(line: usize, text: &str, operator: Operator, description: &str) -> Mutant {
        Mutant {
            file: "mm/memory.c".into(),
            text: text.into(),
            function: "__simple_ioremap_prep".into(),
            line,
            operator,
            description: description.into(),
        }
    }

    #[test]
    fn a_listed_mutant_is_found_by_its_code_and_the_line_before_when_its_code_repeats() {
        let text = "\tif (start_phys + size < start_phys)\n\t\treturn 0;\n\tif (pfn + pages < pfn)\n\t\treturn 0;\n";
        let wrap = mutant(4, text, Operator::ReturnZero, "return -EINVAL; -> return 0;");
        assert_eq!(reason(&wrap), Some(PFN_WRAP));
        // The same change after the other check is not the one proved.
        let other = mutant(2, text, Operator::ReturnZero, "return -EINVAL; -> return 0;");
        assert_eq!(reason(&other), None);
        let swapped = mutant(4, text, Operator::SwapErrno, "`return -EINVAL;`: -EINVAL -> -EFAULT");
        assert_eq!(reason(&swapped), None);
    }
}
