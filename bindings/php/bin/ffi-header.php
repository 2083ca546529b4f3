<?php

// Prints the header for php.ini's `ffi.preload`: the library's declarations as the FFI scope SCIMKIT.
// Usage: php bin/ffi-header.php [/path/to/libscimkit_native.so] > /etc/php/scimkit-ffi.h
// Without a path: the library this package holds.

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

$library = $argv[1] ?? Scimkit\Native::defaultLibrary();
if (!is_file($library)) {
    fwrite(STDERR, "no library at $library\nusage: php ffi-header.php [/path/to/libscimkit_native.so]\n");
    exit(2);
}
printf("#define FFI_SCOPE \"%s\"\n#define FFI_LIB \"%s\"\n%s", Scimkit\Native::SCOPE, realpath($library), Scimkit\Native::declarations());
