//! `cargo run -p lab-vgg16-transfer -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lab_vgg16_transfer::classify::{self, ClassifyArgs, Resize};
use lab_vgg16_transfer::transfer::{self, Regime, TransferFlags};
use lab_vgg16_transfer::weights::Pretrained;
use shared::cli::CommonArgs;
use shared::datasets::{data_dir, samples_dir};
use shared::device::DeviceChoice;

/// Lab 4: a pretrained ImageNet network, and transfer learning.
///
/// Part 1 (`classify`, the default): a network trained on ImageNet's 1,000 classes names what
/// is in any photo, with Keras's decode_predictions top 5. The weights are downloaded once
/// into the data folder (EfficientNet-Lite0: 17 MB; VGG-16: 528 MB), or given with --weights.
///
/// Part 2 (`transfer`, `compare`): the pretrained network learns CIFAR-10's ten classes from
/// a few labelled images: a new head on the frozen base, the last block too, or every weight;
/// `compare` plots test accuracy against the number of labelled images for each regime and
/// for lab 2's CNN trained from scratch.
#[derive(Debug, Parser)]
#[command(
    name = "lab-vgg16-transfer",
    version,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Without a subcommand: `classify` with these flags
    #[command(flatten)]
    classify: ClassifyFlags,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Classify photos with a pretrained ImageNet network (the default: the bundled photos)
    Classify(ClassifyFlags),
    /// Transfer learning on CIFAR-10 in one regime (--train head|top|all|scratch)
    Transfer(TransferArgs),
    /// Every regime at several numbers of labelled images: one table, one plot
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
struct TransferArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// What is trained: a new head on the frozen base, the last block and a head, every
    /// weight, or lab 2's CNN from scratch
    #[arg(long = "train", value_enum, default_value_t = Regime::Head)]
    regime: Regime,

    #[command(flatten)]
    network: NetworkFlags,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Regimes to compare
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Regime::Head, Regime::Top, Regime::All, Regime::Scratch])]
    regimes: Vec<Regime>,

    /// Labelled training images per class, one run each [default: 3,10,30 on the sample,
    /// 10,50,200 with --full, 2,4 with --quick]
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,

    #[command(flatten)]
    network: NetworkFlags,
}

#[derive(Debug, clap::Args)]
struct NetworkFlags {
    /// The pretrained base
    #[arg(long, value_enum, default_value_t = Pretrained::EfficientnetLite0)]
    model: Pretrained,

    /// A weights file to use instead of the downloaded one
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,

    /// Labelled training images per class [default: 30 on the sample (about all it has), 200 with
    /// --full, 8 with --quick]
    #[arg(long)]
    per_class: Option<usize>,

    /// Side the 32 x 32 CIFAR images are scaled up to (a multiple of 32; 160 is as accurate
    /// as ImageNet's 224 on the validation images and twice as fast)
    #[arg(long, default_value_t = 160)]
    image_size: usize,

    /// Do not evaluate on the test images: for choosing settings on the validation images,
    /// so that the test set is used once, at the end
    #[arg(long)]
    no_test: bool,
}

impl NetworkFlags {
    fn flags(&self) -> TransferFlags {
        TransferFlags {
            model: self.model,
            weights: self.weights.clone(),
            per_class: self.per_class,
            image_size: self.image_size,
            no_test: self.no_test,
        }
    }
}

#[derive(Debug, clap::Args)]
struct ClassifyFlags {
    /// Image files (JPEG or PNG) or folders of them [default: the bundled photos in
    /// datasets/imagenet/photos]
    images: Vec<PathBuf>,

    /// The pretrained network
    #[arg(long, value_enum, default_value_t = Pretrained::EfficientnetLite0)]
    model: Pretrained,

    /// A weights file to use instead of the downloaded one
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,

    /// How photos are brought to 224 x 224
    #[arg(long, value_enum, default_value_t = Resize::Auto)]
    resize: Resize,

    /// Backend to run on; GPU backends need the matching cargo feature
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,

    /// Folder for downloaded weights (models/ inside it) [default: $BURN_LABS_DATA, else
    /// data/ in the repository]
    #[arg(long)]
    data_dir: Option<PathBuf>,

    /// Folder for run folders: each run writes to <out>/vgg16-transfer/<date-time>/
    #[arg(long, default_value = "runs")]
    out: PathBuf,
}

fn classify(flags: ClassifyFlags) -> anyhow::Result<()> {
    let images = if flags.images.is_empty() {
        vec![samples_dir().join("imagenet").join("photos")]
    } else {
        flags.images
    };
    classify::run(&ClassifyArgs {
        model: flags.model,
        weights: flags.weights,
        images,
        resize: flags.resize,
        data_dir: data_dir(flags.data_dir.as_deref()),
        out: flags.out,
        device: shared::device::select(flags.device)?,
    })?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let command = args.command.unwrap_or(Command::Classify(args.classify));
    shared::cli::exit_code(match command {
        Command::Classify(flags) => classify(flags),
        Command::Transfer(args) => {
            transfer::run(&args.common, args.regime, &args.network.flags()).map(|_| ())
        }
        Command::Compare(args) => {
            let sizes = if !args.sizes.is_empty() {
                args.sizes.clone()
            } else if args.common.full {
                vec![10, 50, 200]
            } else if args.common.quick {
                vec![2, 4]
            } else {
                vec![3, 10, 30]
            };
            transfer::compare(&args.common, &args.regimes, &sizes, &args.network.flags())
                .map(|_| ())
        }
    })
}
