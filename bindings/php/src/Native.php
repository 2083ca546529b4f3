<?php

declare(strict_types=1);

namespace Scimkit;

use FFI;

/**
 * The native library through FFI, declared from its own C header so that nothing is written twice.
 * Under `ffi.enable=preload` (php-fpm), preload.php declares it once per server as the scope SCIMKIT.
 */
final class Native
{
    public const SCOPE = 'SCIMKIT';

    /** @var array<string, FFI> per library path, for the life of the PHP request */
    private static array $loaded = [];

    public static function load(string $library, ?string $header = null): FFI
    {
        if (isset(self::$loaded[$library])) {
            return self::$loaded[$library];
        }
        try {
            return self::$loaded[$library] = FFI::scope(self::SCOPE);
        } catch (FFI\Exception) {
            // Not preloaded: declare it now (needs ffi.enable=1, or the CLI).
        }
        return self::$loaded[$library] = FFI::cdef(self::declarations($header), $library);
    }

    /**
     * The library this package holds for the running platform (`lib/linux-x86_64/…` in the built package), else,
     * in a checkout of the repository, the release build's.
     */
    public static function defaultLibrary(): string
    {
        $bundled = dirname(__DIR__) . '/lib/' . self::platform() . '/libscimkit_native.so';
        return is_file($bundled) ? $bundled : dirname(__DIR__, 3) . '/target/release/libscimkit_native.so';
    }

    /** `linux-x86_64`, `linux-aarch64`, …: the directory of `lib/` for this system. */
    public static function platform(): string
    {
        $arch = strtolower(php_uname('m'));
        return strtolower(PHP_OS_FAMILY) . '-' . ($arch === 'amd64' ? 'x86_64' : ($arch === 'arm64' ? 'aarch64' : $arch));
    }

    /** The package's copy of the header, else (in a checkout of the repository) the native library's own. */
    public static function defaultHeader(): string
    {
        $bundled = dirname(__DIR__) . '/include/scimkit.h';
        return is_file($bundled) ? $bundled : dirname(__DIR__, 2) . '/native/include/scimkit.h';
    }

    /** The header without its preprocessor lines and C++ guards, which FFI's parser does not take. */
    public static function declarations(?string $header = null): string
    {
        $path = $header ?? self::defaultHeader();
        $text = @file_get_contents($path);
        if ($text === false) {
            throw new \RuntimeException("cannot read the scimkit header $path");
        }
        $text = preg_replace('/^#ifdef __cplusplus$.*?^#endif$/ms', '', $text);
        return preg_replace('/^#.*$/m', '', $text);
    }
}
