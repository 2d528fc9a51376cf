fn main() {
    let spec = std::fs::read_to_string("spec/openapi.yaml").unwrap();
    match cerebras_batch_generator::generate(&spec) {
        Ok(o) => {
            for (k, v) in &o.files {
                std::fs::write(format!("/tmp/dump-{k}"), v).unwrap();
            }
            println!("{:#?}", o.summary);
            std::fs::write("/tmp/dump-surface.txt", &o.surface).unwrap();
        }
        Err(e) => println!("ERR: {e}"),
    }
}
