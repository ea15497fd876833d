//! JRD documents (WebFinger answers, host-meta.json).
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_webfinger::Descriptor;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Descriptor::from_jrd(data) {
        // What we write, we read back identically.
        let again = Descriptor::from_jrd(&d.to_jrd()).expect("re-read JRD");
        assert_eq!(again, d);
        // And as XRD: whatever JSON carried must come out as XML that reads.
        Descriptor::from_xrd(d.to_xrd().as_bytes()).expect("JRD written as XRD reads");
    }
});
