//! The methods a decorator (read-only, write-only, signed) passes to the
//! store it wraps unchanged, written once: `forward_to_inner!(lock, clear)`
//! inside an `impl RemoteStore` whose struct has an `inner` store.

macro_rules! forward_to_inner {
    ($($method:ident),+ $(,)?) => {
        $( $crate::store::remote::forward::forward_to_inner!(@one $method); )+
    };
    (@one redacted_url) => {
        fn redacted_url(&self) -> &str {
            self.inner.redacted_url()
        }
    };
    (@one fetch) => {
        fn fetch(
            &self,
            key_hex: &str,
            dest: &mut std::fs::File,
            max_len: u64,
        ) -> Result<bool, $crate::store::remote::RemoteError> {
            self.inner.fetch(key_hex, dest, max_len)
        }
    };
    (@one lock) => {
        fn lock(
            &self,
            key_hex: &str,
            lease: std::time::Duration,
            wait: std::time::Duration,
        ) -> Result<Option<$crate::store::remote::RemoteLock<'_>>, $crate::store::remote::RemoteError>
        {
            self.inner.lock(key_hex, lease, wait)
        }
    };
    (@one list_keys) => {
        fn list_keys(&self) -> Result<Vec<String>, $crate::store::remote::RemoteError> {
            self.inner.list_keys()
        }
    };
    (@one clear) => {
        fn clear(&self) -> Result<u64, $crate::store::remote::RemoteError> {
            self.inner.clear()
        }
    };
    (@one is_read_only) => {
        fn is_read_only(&self) -> bool {
            self.inner.is_read_only()
        }
    };
    (@one is_disabled) => {
        fn is_disabled(&self) -> bool {
            self.inner.is_disabled()
        }
    };
    (@one last_error) => {
        fn last_error(&self) -> Option<String> {
            self.inner.last_error()
        }
    };
    (@one counters) => {
        fn counters(&self) -> $crate::store::remote::RemoteCounters {
            self.inner.counters()
        }
    };
}

pub(crate) use forward_to_inner;
