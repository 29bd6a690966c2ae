//! A command component: reads its environment through WASI preview2 and prints one line.
//! tau's runtime smoke runs it behind a deny-by-default host, so it must not need any capability.

fn main() {
    let vars = std::env::vars().count();
    println!("hello from a wasi:cli/run component ({vars} environment variables visible)");
}
