/*
 * A stand-in bcryptprimitives.dll for running Go programs under wine 8 (tests only).
 *
 * Why: since Go 1.24 the Windows runtime loads bcryptprimitives.dll at start and calls its
 * ProcessPrng for random bytes (crypto/rand, map seeds). Windows 10+ has it; wine 8 (Debian
 * 12's wine) does not, so every Go ≥ 1.24 program dies at start under it. This DLL exports
 * the one function Go needs and forwards it to RtlGenRandom (advapi32's SystemFunction036),
 * which wine implements with the host's random source.
 *
 * Built by build/wine/prefix.sh with Debian's x86_64-w64-mingw32-gcc and copied into the
 * prefix's system32. Never shipped: Windows has the real one.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE; /* like the real ProcessPrng, which never fails */
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
