//! The monthly cost preview of a service: Fargate vCPU and GB hours for its tasks (ARM64 or x86, Spot or
//! on-demand), the load balancer, and public IPv4 addresses, from the dated price table in `templates/`.

use serde::{Deserialize, Serialize};

use crate::config::{Architecture, Settings};

/// The price table, `templates/prices.toml`.
const PRICES: &str = include_str!("../templates/prices.toml");

/// Prices per hour of one region on one date.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Prices {
    /// When the prices were read.
    pub date: String,
    /// Their region.
    pub region: String,
    /// Hours in a month.
    pub hours_per_month: f64,
    /// Fargate on-demand rates by architecture.
    pub fargate: FargateRates,
    /// Fargate Spot.
    pub fargate_spot: SpotRate,
    /// Application Load Balancer.
    pub load_balancer: LoadBalancerRate,
    /// Public IPv4 addresses.
    pub public_ipv4: HourRate,
}

/// Fargate rates by architecture.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FargateRates {
    /// ARM64 (Graviton).
    pub arm64: ComputeRate,
    /// x86_64.
    pub x86_64: ComputeRate,
}

/// Per vCPU-hour and per GB-hour.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ComputeRate {
    /// USD per vCPU-hour.
    pub vcpu_hour: f64,
    /// USD per GB-hour.
    pub gb_hour: f64,
}

/// Spot as a fraction of on-demand.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SpotRate {
    /// The fraction assumed.
    pub fraction_of_on_demand: f64,
}

/// Load balancer rates.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadBalancerRate {
    /// USD per hour.
    pub hour: f64,
    /// USD per LCU-hour.
    pub lcu_hour: f64,
    /// LCUs assumed.
    pub lcus: f64,
}

/// A plain hourly rate.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct HourRate {
    /// USD per hour.
    pub hour: f64,
}

impl Prices {
    /// The table shipped in `templates/prices.toml`.
    ///
    /// # Panics
    /// Never for the shipped table (a unit test parses it).
    #[must_use]
    pub fn shipped() -> Self {
        toml::from_str(PRICES).unwrap_or_else(|e| panic!("templates/prices.toml is invalid: {e}"))
    }

    fn compute(&self, architecture: Architecture) -> ComputeRate {
        match architecture {
            Architecture::Arm64 => self.fargate.arm64,
            Architecture::X86_64 => self.fargate.x86_64,
        }
    }
}

/// One line of the preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CostLine {
    /// What is paid for.
    pub item: String,
    /// USD per month.
    pub monthly: f64,
}

/// The preview of one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CostEstimate {
    /// The lines.
    pub lines: Vec<CostLine>,
    /// USD per month in all.
    pub total: f64,
    /// What the same tasks would cost on the other architecture, and on Spot / on-demand.
    pub alternatives: Vec<CostLine>,
    /// Where the prices come from.
    pub basis: String,
}

/// The monthly cost of running `settings` with `zones` availability zones under the load balancer.
#[must_use]
pub fn estimate(settings: &Settings, zones: usize, prices: &Prices) -> CostEstimate {
    let hours = prices.hours_per_month;
    let tasks = settings.initial_desired_count();
    let vcpu = f64::from(settings.cpu) / 1024.0;
    let gb = f64::from(settings.memory) / 1024.0;
    let fargate = |architecture: Architecture, spot: bool| {
        let rate = prices.compute(architecture);
        let per_task = (vcpu * rate.vcpu_hour + gb * rate.gb_hour) * hours;
        // With Spot, one task stays on on-demand FARGATE (the base of the capacity provider strategy).
        let (on_demand, on_spot) = if spot { (tasks.min(1), tasks.saturating_sub(1)) } else { (tasks, 0) };
        per_task * f64::from(on_demand) + per_task * prices.fargate_spot.fraction_of_on_demand * f64::from(on_spot)
    };
    let arch = match settings.architecture {
        Architecture::Arm64 => "ARM64",
        Architecture::X86_64 => "x86_64",
    };
    let capacity = if settings.spot { "Spot (one on-demand base task)" } else { "on-demand" };
    let mut lines = vec![CostLine {
        item: format!("Fargate {arch} {capacity}: {tasks} task(s) of {vcpu} vCPU / {gb} GB"),
        monthly: fargate(settings.architecture, settings.spot),
    }];
    let mut public_ips = 0;
    if settings.load_balancer.is_some() {
        let lb = prices.load_balancer;
        lines.push(CostLine {
            item: format!("Application Load Balancer ({} LCU assumed)", lb.lcus),
            monthly: (lb.hour + lb.lcu_hour * lb.lcus) * hours,
        });
        public_ips += zones.max(2);
    }
    if settings.assign_public_ip {
        public_ips += usize::try_from(tasks).unwrap_or(usize::MAX);
    }
    if public_ips > 0 {
        let count = u32::try_from(public_ips).unwrap_or(u32::MAX);
        lines.push(CostLine {
            item: format!("{public_ips} public IPv4 address(es) (load balancer nodes and tasks)"),
            monthly: prices.public_ipv4.hour * hours * f64::from(count),
        });
    }
    let other_arch = match settings.architecture {
        Architecture::Arm64 => Architecture::X86_64,
        Architecture::X86_64 => Architecture::Arm64,
    };
    let other_name = if other_arch == Architecture::Arm64 { "ARM64" } else { "x86_64" };
    let alternatives = vec![
        CostLine { item: format!("the same tasks on {other_name}"), monthly: fargate(other_arch, settings.spot) },
        CostLine {
            item: format!("the same tasks {}", if settings.spot { "on-demand" } else { "on Spot" }),
            monthly: fargate(settings.architecture, !settings.spot),
        },
    ];
    let total = lines.iter().map(|l| l.monthly).sum();
    let basis = format!(
        "{} list prices of {} (templates/prices.toml); NAT gateways, data transfer and logs are not included",
        prices.region, prices.date
    );
    CostEstimate { lines, total, alternatives, basis }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::config::{PackageInfo, Source, from_metadata, resolve};

    fn settings(ecs: &serde_json::Value) -> Settings {
        let package = PackageInfo::with_one_bin("app", "/w/Cargo.toml");
        let source = Source::PackageMetadata { file: package.manifest_path.clone() };
        let layers = from_metadata(ecs, source.clone(), |_| source.clone()).expect("metadata");
        resolve(&package, None, &[layers.base], Path::new("/w")).expect("settings").settings
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn the_shipped_table_parses_and_is_dated() {
        let prices = Prices::shipped();
        assert_eq!(prices.region, "us-east-1");
        assert!(prices.date.starts_with("20"));
        assert!(prices.fargate.arm64.vcpu_hour < prices.fargate.x86_64.vcpu_hour, "ARM64 is the cheaper one");
    }

    #[test]
    fn one_small_arm64_task_behind_a_load_balancer() {
        let prices = Prices::shipped();
        let cost = estimate(&settings(&json!({})), 2, &prices);
        // 0.25 vCPU x 0.03238 + 0.5 GB x 0.00356, for 730 hours.
        assert!(close(cost.lines[0].monthly, (0.25 * 0.03238 + 0.5 * 0.00356) * 730.0), "{cost:?}");
        assert!(close(cost.lines[1].monthly, (0.0225 + 0.008) * 730.0), "{cost:?}");
        assert!(cost.lines[2].item.starts_with("2 public IPv4"), "{cost:?}");
        assert!(close(cost.total, cost.lines.iter().map(|l| l.monthly).sum()));
        assert!(cost.alternatives[0].monthly > cost.lines[0].monthly, "x86 costs more");
        assert!(close(cost.alternatives[1].monthly, cost.lines[0].monthly), "one task stays on the on-demand base");
    }

    #[test]
    fn spot_keeps_one_on_demand_task_and_public_ips_count_tasks() {
        let prices = Prices::shipped();
        let s = settings(
            &json!({ "spot": true, "desired-count": 3, "assign-public-ip": true, "cpu": 1024, "memory": 2048 }),
        );
        let cost = estimate(&s, 3, &prices);
        let per_task = (0.03238 + 2.0 * 0.00356) * 730.0;
        assert!(close(cost.lines[0].monthly, per_task + 2.0 * per_task * 0.30), "{cost:?}");
        assert!(cost.lines[2].item.starts_with("6 public IPv4"), "3 load balancer nodes + 3 tasks: {cost:?}");
        let none = estimate(&settings(&json!({ "load-balancer": { "enabled": false } })), 2, &prices);
        assert_eq!(none.lines.len(), 2, "tasks and their public IP only: {none:?}");
    }
}
