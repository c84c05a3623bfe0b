//! # Lab 9: Auto MPG regression with early stopping, checkpoints and reloading
//!
//! TensorFlow's "basic regression" tutorial in burn: predict a car's fuel consumption
//! (miles per gallon) from its cylinders, displacement, horsepower, weight, acceleration,
//! model year and origin. The lesson is less the network than what happens when it trains
//! too long: make it overfit on purpose (과적합), then stop it in time (조기 종료, early
//! stopping), keep the best weights in a checkpoint, and reload them in a fresh process.
//!
//! Read it in this order: [`data`] (the UCI file → normalised features) and [`split`] (the
//! tutorial's train/test split, car for car) → [`model`] (Dense 64-64-1) → [`training`]
//! (part 1 overfits, part 2 stops early, both are tested) → [`inference`] (reload the
//! checkpoint, evaluate, predict new cars). `main.rs` only parses flags.
//!
//! ```text
//! cargo run -p lab-mpg-earlystop                       # both parts, seconds
//! cargo run -p lab-mpg-earlystop -- --evaluate         # reload the newest run
//! cargo run -p lab-mpg-earlystop -- --predict \
//!   "cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76,origin=Japan"
//! ```

pub mod data;
pub mod inference;
pub mod model;
pub mod split;
pub mod training;
