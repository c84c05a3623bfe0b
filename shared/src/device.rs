//! `--device`: which burn backend runs the lab.
//!
//! The same model code runs on every backend; only this choice differs. `flex` (pure Rust,
//! on the CPU) is always compiled in. The GPU backends are cargo features, because each adds
//! minutes of compile time:
//!
//! ```text
//! cargo run -p lab-lenet --features wgpu -- --device wgpu
//! ```

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The best backend compiled into this binary: cuda, then wgpu, then flex.
    #[default]
    Auto,
    /// burn's pure-Rust CPU backend (always available).
    Flex,
    /// burn's older CPU backend, deprecated upstream and much slower on convolutions (feature `ndarray`).
    Ndarray,
    /// The GPU through wgpu: Vulkan, Metal or DirectX (feature `wgpu`).
    Wgpu,
    /// An NVIDIA GPU through CUDA (feature `cuda`).
    Cuda,
}

impl DeviceChoice {
    /// The backends this binary was compiled with.
    pub fn compiled() -> Vec<DeviceChoice> {
        let mut all = vec![DeviceChoice::Flex];
        if cfg!(feature = "ndarray") {
            all.push(DeviceChoice::Ndarray);
        }
        if cfg!(feature = "wgpu") {
            all.push(DeviceChoice::Wgpu);
        }
        if cfg!(feature = "cuda") {
            all.push(DeviceChoice::Cuda);
        }
        all
    }

    fn name(self) -> &'static str {
        match self {
            DeviceChoice::Auto => "auto",
            DeviceChoice::Flex => "flex",
            DeviceChoice::Ndarray => "ndarray",
            DeviceChoice::Wgpu => "wgpu",
            DeviceChoice::Cuda => "cuda",
        }
    }

    /// The concrete backend `Auto` stands for in this binary.
    pub fn resolve(self) -> DeviceChoice {
        if self != DeviceChoice::Auto {
            return self;
        }
        let compiled = DeviceChoice::compiled();
        for preferred in [DeviceChoice::Cuda, DeviceChoice::Wgpu] {
            if compiled.contains(&preferred) {
                return preferred;
            }
        }
        DeviceChoice::Flex
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A few words for the summary: `flex (CPU, 2 threads; AMD EPYC, avx2 + avx512f)`,
/// `wgpu (GPU)`, …. A CPU run names the processor and its vector instructions, because a
/// speed figure depends on them (gemm and TensorFlow use AVX-512 where it exists).
pub fn describe(choice: DeviceChoice) -> String {
    match choice.resolve() {
        DeviceChoice::Flex | DeviceChoice::Ndarray | DeviceChoice::Auto => format!(
            "{} (CPU, {} threads; {})",
            choice.resolve(),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu()
        ),
        gpu => format!("{gpu} (GPU)"),
    }
}

/// The processor's name (Linux's `/proc/cpuinfo`; elsewhere `CPU`) and the widest vector
/// instructions the program can use on it: `AMD EPYC, avx2 + avx512f`.
pub fn cpu() -> String {
    let name = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "CPU".to_string());
    format!("{name}, {}", simd())
}

/// `avx2 + avx512f`, `avx2`, `sse2`, `neon`, …: what the matrix products can use.
fn simd() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let found: Vec<&str> = [
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ]
        .into_iter()
        .filter_map(|(name, has)| has.then_some(name))
        .collect();
        if found.is_empty() {
            "sse2".to_string()
        } else {
            found.join(" + ")
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon".to_string()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        std::env::consts::ARCH.to_string()
    }
}

/// The burn device for a `--device` choice, or an error that says how to get that backend.
pub fn select(choice: DeviceChoice) -> Result<Device> {
    crate::keep_freed_memory();
    let choice = choice.resolve();
    if !DeviceChoice::compiled().contains(&choice) {
        let available: Vec<&str> = DeviceChoice::compiled().iter().map(|d| d.name()).collect();
        bail!(
            "this binary was built without the {choice} backend (it has: {}).\n\
             Rebuild with the feature, e.g. `cargo run -p <lab> --features {choice} -- --device {choice}`",
            available.join(", ")
        );
    }
    Ok(make(choice))
}

#[allow(unreachable_code)]
fn make(choice: DeviceChoice) -> Device {
    match choice {
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => return Device::cuda(0),
        #[cfg(feature = "wgpu")]
        DeviceChoice::Wgpu => {
            return Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        }
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        DeviceChoice::Ndarray => return Device::ndarray(),
        _ => {}
    }
    Device::flex()
}
