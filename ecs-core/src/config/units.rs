//! CPU and memory as users write them ("0.5 vCPU", "1 GB") and the Fargate sizes AWS accepts.
//!
//! Source: Amazon ECS Developer Guide, "Task CPU and memory" (task-cpu-memory-error.html), and the
//! `cpu` / `memory` fields of RegisterTaskDefinition: 1 vCPU = 1024 units, 1 GB = 1024 MiB.

/// A Fargate CPU size and the memory sizes (MiB) it pairs with: `memory_min..=memory_max` in `memory_step`s,
/// or exactly `memory_list` when set (256 units pair with 512, 1024 and 2048, which no step describes).
struct FargateSize {
    cpu: u32,
    memory_min: u32,
    memory_max: u32,
    memory_step: u32,
    memory_list: &'static [u32],
}

/// Every Fargate task size (Linux). 8 and 16 vCPU need platform version 1.4.0 (the default, LATEST).
const FARGATE_SIZES: &[FargateSize] = &[
    FargateSize { cpu: 256, memory_min: 512, memory_max: 2048, memory_step: 512, memory_list: &[512, 1024, 2048] },
    FargateSize { cpu: 512, memory_min: 1024, memory_max: 4096, memory_step: 1024, memory_list: &[] },
    FargateSize { cpu: 1024, memory_min: 2048, memory_max: 8192, memory_step: 1024, memory_list: &[] },
    FargateSize { cpu: 2048, memory_min: 4096, memory_max: 16384, memory_step: 1024, memory_list: &[] },
    FargateSize { cpu: 4096, memory_min: 8192, memory_max: 30720, memory_step: 1024, memory_list: &[] },
    FargateSize { cpu: 8192, memory_min: 16384, memory_max: 61440, memory_step: 4096, memory_list: &[] },
    FargateSize { cpu: 16384, memory_min: 32768, memory_max: 122_880, memory_step: 8192, memory_list: &[] },
];

/// The CPU sizes Fargate offers, in units.
#[must_use]
pub fn fargate_cpus() -> Vec<u32> {
    FARGATE_SIZES.iter().map(|s| s.cpu).collect()
}

/// The memory sizes (MiB) Fargate pairs with `cpu` units; empty when `cpu` is not a Fargate size.
#[must_use]
pub fn fargate_memories(cpu: u32) -> Vec<u32> {
    FARGATE_SIZES
        .iter()
        .filter(|s| s.cpu == cpu)
        .flat_map(|s| {
            if s.memory_list.is_empty() {
                (s.memory_min..=s.memory_max).step_by(s.memory_step as usize).collect()
            } else {
                s.memory_list.to_vec()
            }
        })
        .collect()
}

/// The CPU sizes that pair with `memory` MiB.
#[must_use]
pub fn fargate_cpus_for(memory: u32) -> Vec<u32> {
    FARGATE_SIZES.iter().filter(|s| fargate_memories(s.cpu).contains(&memory)).map(|s| s.cpu).collect()
}

/// Describes the memory range for `cpu` the way AWS's table does.
#[must_use]
pub fn describe_memories(cpu: u32) -> String {
    let memories = fargate_memories(cpu);
    if memories.len() <= 7 {
        let list: Vec<String> = memories.iter().map(u32::to_string).collect();
        format!("{} MiB", list.join(", "))
    } else {
        FARGATE_SIZES.iter().find(|s| s.cpu == cpu).map_or_else(String::new, |s| {
            format!("{} to {} MiB in steps of {}", s.memory_min, s.memory_max, s.memory_step)
        })
    }
}

/// "0.25 vCPU" for 256 units.
#[must_use]
pub fn vcpu_label(cpu: u32) -> String {
    format!("{} vCPU", f64::from(cpu) / 1024.0)
}

/// Parses CPU units from an integer string ("512") or vCPUs ("0.5 vCPU", ".25vcpu", "1 vCPU").
///
/// # Errors
/// A message saying what was expected.
pub fn parse_cpu(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if let Some(number) = lower.strip_suffix("vcpu") {
        let vcpus = parse_decimal(number.trim())
            .ok_or_else(|| format!("\"{trimmed}\" is not a number of vCPUs such as \"0.5 vCPU\""))?;
        return whole(vcpus * 1024.0)
            .ok_or_else(|| format!("\"{trimmed}\" is not a whole number of CPU units (1 vCPU = 1024 units)"));
    }
    trimmed.parse::<u32>().map_err(|_| format!("\"{trimmed}\" is neither CPU units (512) nor vCPUs (\"0.5 vCPU\")"))
}

/// Parses memory in MiB from an integer string ("1024") or with a unit ("1 GB", "0.5 GiB", "512 MiB", "512 MB").
/// GB means GiB, as in the ECS console and API.
///
/// # Errors
/// A message saying what was expected.
pub fn parse_memory(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let units: [(&str, f64); 6] =
        [("gib", 1024.0), ("gb", 1024.0), ("g", 1024.0), ("mib", 1.0), ("mb", 1.0), ("m", 1.0)];
    let (number, factor) = units
        .iter()
        .find_map(|(unit, factor)| lower.strip_suffix(unit).map(|n| (n.trim(), *factor)))
        .unwrap_or((lower.as_str(), 1.0));
    let amount = parse_decimal(number)
        .ok_or_else(|| format!("\"{trimmed}\" is not an amount of memory such as 1024, \"1 GB\" or \"512 MiB\""))?;
    whole(amount * factor).ok_or_else(|| format!("\"{trimmed}\" is not a whole number of MiB"))
}

fn parse_decimal(text: &str) -> Option<f64> {
    let valid = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    valid.then(|| text.parse::<f64>().ok()).flatten().filter(|v| v.is_finite())
}

fn whole(value: f64) -> Option<u32> {
    let rounded = value.round();
    ((value - rounded).abs() < 1e-9 && rounded >= 0.0 && rounded <= f64::from(u32::MAX))
        .then(|| format!("{rounded:.0}").parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_accepts_units_and_vcpus() {
        assert_eq!(parse_cpu("512"), Ok(512));
        assert_eq!(parse_cpu(".5 vCPU"), Ok(512));
        assert_eq!(parse_cpu("0.5 vCPU"), Ok(512));
        assert_eq!(parse_cpu("0.25vcpu"), Ok(256));
        assert_eq!(parse_cpu("1 vCPU"), Ok(1024));
        assert_eq!(parse_cpu("16 VCPU"), Ok(16384));
    }

    #[test]
    fn cpu_rejects_what_is_not_a_size() {
        assert!(parse_cpu("half").unwrap_err().contains("neither CPU units"));
        assert!(parse_cpu("0.3 vCPU").unwrap_err().contains("whole number of CPU units"));
        assert!(parse_cpu("-1 vCPU").unwrap_err().contains("not a number of vCPUs"));
    }

    #[test]
    fn memory_accepts_mib_and_gb() {
        assert_eq!(parse_memory("1024"), Ok(1024));
        assert_eq!(parse_memory("1 GB"), Ok(1024));
        assert_eq!(parse_memory("0.5 GB"), Ok(512));
        assert_eq!(parse_memory("2GiB"), Ok(2048));
        assert_eq!(parse_memory("512 MiB"), Ok(512));
        assert_eq!(parse_memory("512 mb"), Ok(512));
    }

    #[test]
    fn memory_rejects_what_is_not_an_amount() {
        assert!(parse_memory("lots").unwrap_err().contains("not an amount of memory"));
        assert!(parse_memory("1 TB").unwrap_err().contains("not an amount of memory"));
        assert!(parse_memory("0.3 MiB").unwrap_err().contains("whole number of MiB"));
    }

    #[test]
    fn fargate_table_matches_aws() {
        assert_eq!(fargate_memories(256), vec![512, 1024, 2048]);
        assert_eq!(fargate_memories(512), vec![1024, 2048, 3072, 4096]);
        assert_eq!(fargate_memories(1024), (2..=8).map(|g| g * 1024).collect::<Vec<_>>());
        assert_eq!(fargate_memories(2048), (4..=16).map(|g| g * 1024).collect::<Vec<_>>());
        assert_eq!(fargate_memories(4096), (8..=30).map(|g| g * 1024).collect::<Vec<_>>());
        assert_eq!(fargate_memories(8192), (16..=60).step_by(4).map(|g| g * 1024).collect::<Vec<_>>());
        assert_eq!(fargate_memories(16384), (32..=120).step_by(8).map(|g| g * 1024).collect::<Vec<_>>());
        assert!(fargate_memories(300).is_empty());
        assert_eq!(fargate_cpus_for(2048), vec![256, 512, 1024]);
        assert_eq!(describe_memories(8192), "16384 to 61440 MiB in steps of 4096");
        assert_eq!(vcpu_label(256), "0.25 vCPU");
    }
}
