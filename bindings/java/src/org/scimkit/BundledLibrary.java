package org.scimkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The native library packed in the jar ({@code dist/build.sh}) as {@code native/<platform>/libscimkit_native.so}
 * beside this class, with its SHA-256 in {@code libscimkit_native.so.sha256}. The JVM loads native code only from
 * a file: it is written once per process into a new directory only the user can open, checked against that hash
 * as written, loaded, then deleted (the loaded library stays mapped).
 */
final class BundledLibrary {
    static final String NAME = "libscimkit_native.so";

    private BundledLibrary() {}

    /** {@code linux-x86_64}, {@code linux-aarch64}, …: the directory of the jar that holds this platform's library. */
    static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT).split(" ")[0];
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return os + "-" + switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "arm64", "aarch64" -> "aarch64";
            default -> arch;
        };
    }

    /** The extracted library, or null when the jar has none for this platform (classes compiled from source). */
    static Path extract() {
        String dir = "native/" + platform() + "/";
        try (InputStream library = BundledLibrary.class.getResourceAsStream(dir + NAME);
             InputStream hash = BundledLibrary.class.getResourceAsStream(dir + NAME + ".sha256")) {
            if (library == null) {
                return null;
            }
            if (hash == null) {
                throw new UnsatisfiedLinkError("the jar holds " + dir + NAME + " without its .sha256");
            }
            String expected = new String(hash.readAllBytes(), StandardCharsets.US_ASCII).trim();
            Path temp = Files.createTempDirectory("scimkit-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Path file = temp.resolve(NAME);
            Files.copy(library, file);
            if (!sha256(file).equals(expected)) {
                remove(file);
                throw new UnsatisfiedLinkError("the bundled " + NAME + " does not match its SHA-256 " + expected);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting the bundled " + NAME, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file as written, read back: what the loader maps. */
    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Deletes the extracted file and its directory; the library stays loaded. */
    static void remove(Path file) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        } catch (IOException e) {
            System.getLogger("org.scimkit").log(System.Logger.Level.WARNING, "could not delete " + file, e);
        }
    }
}
