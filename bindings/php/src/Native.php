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

    public static function defaultHeader(): string
    {
        return dirname(__DIR__, 2) . '/native/include/scimkit.h';
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
