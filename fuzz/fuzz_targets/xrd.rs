//! XRD documents (WebFinger answers, host-meta, LRDD).
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_webfinger::Descriptor;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Descriptor::from_xrd(data) {
        let again = Descriptor::from_xrd(d.to_xrd().as_bytes()).expect("re-read XRD");
        assert_eq!(again, d);
        let _ = d.lrdd_templates().count();
    }
    let _ = Descriptor::parse(data, None);
});
