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

/// A few words for the summary: `flex (CPU)`, `wgpu (GPU)`, ….
pub fn describe(choice: DeviceChoice) -> String {
    match choice.resolve() {
        DeviceChoice::Flex | DeviceChoice::Ndarray | DeviceChoice::Auto => format!(
            "{} (CPU, {} threads)",
            choice.resolve(),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        ),
        gpu => format!("{gpu} (GPU)"),
    }
}

/// The burn device for a `--device` choice, or an error that says how to get that backend.
pub fn select(choice: DeviceChoice) -> Result<Device> {
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
