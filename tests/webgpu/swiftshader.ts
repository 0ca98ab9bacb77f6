/**
 * The webgpu tests run on SwiftShader, the software Vulkan driver Debian's chromium ships (CI installs chromium and
 * libvulkan1): point the Vulkan loader at it unless the caller chose a driver. No adapter fails the tests loudly,
 * with the backend's own message; they are never skipped.
 */
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

if (!process.env['VK_ICD_FILENAMES'] && !process.env['VK_DRIVER_FILES'] && existsSync(SWIFTSHADER_ICD)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
// Mesa's device-select layer otherwise prints "XDG_RUNTIME_DIR is invalid" on every instance.
process.env['NODEVICE_SELECT'] ??= '1';
